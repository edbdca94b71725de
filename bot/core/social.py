"""Short everyday replies read by word list (config/social.yml): "ok ta", "bless you", "diolch", "nos da", "bore
da". Plain Python, used by the Rasa component bot.rasa.social_reply."""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Dict, List, Optional, Tuple

from bot.core.settings import load_yaml

_NOT_WORD = re.compile(r"[^a-z0-9]+")


def _plain(text: str) -> List[str]:
    text = unicodedata.normalize("NFKD", text.lower().replace("\u2019", "'"))
    text = "".join(c for c in text if not unicodedata.combining(c)).replace("'", "")
    return _NOT_WORD.sub(" ", text).split()


@functools.cache
def _phrases() -> Tuple[int, Tuple[Tuple[Tuple[str, ...], Optional[str]], ...]]:
    """(max words, (phrase words, intent or None for a filler) longest first)."""
    config = load_yaml("config/social.yml")
    found: List[Tuple[Tuple[str, ...], Optional[str]]] = []
    for intent, phrases in (config.get("intents") or {}).items():
        found += [(tuple(_plain(p)), intent) for p in phrases]
    found += [(tuple(_plain(p)), None) for p in config.get("fillers") or ()]
    return int(config.get("max_words", 0)), tuple(sorted(found, key=lambda item: -len(item[0])))


def social_intent(text: str) -> Optional[str]:
    """thank / goodbye / greet / affirm / deny when the whole message is made of the list's phrases and fillers (at
    most `max_words` words, at least one phrase), else None."""
    words = _plain(text)
    max_words, phrases = _phrases()
    if not words or len(words) > max_words:
        return None
    found: List[str] = []
    at = 0
    while at < len(words):
        for phrase, intent in phrases:
            if tuple(words[at : at + len(phrase)]) == phrase:
                if intent:
                    found.append(intent)
                at += len(phrase)
                break
        else:
            return None  # a word of its own: the classifier reads it
    if not found:
        return None
    order: Dict[str, int] = {name: i for i, name in enumerate(load_yaml("config/social.yml")["intents"])}
    return min(found, key=order.__getitem__)
