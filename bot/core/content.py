"""The source article and the topic contract: what answers are made of and checked against."""

from __future__ import annotations

import functools
import re
from typing import Dict, List, Optional, Sequence, Set, Tuple

from bot.core.settings import load_yaml, setting_path

_SENTENCE_END = re.compile(r"(?<=[.!?”])\s+(?=[A-Z“])")
_WORD = re.compile(r"[a-z0-9]+")
_TRANSLATE = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "—": " ", "–": " "})


@functools.cache
def contract() -> Dict[str, Dict]:
    """Every topic - the contract's and the project's own (config/topics.yml) - with its group, source paragraphs
    and escalation level. The project's file may add topics, never redefine a contract one."""
    topics: Dict[str, Dict] = {}
    for key in ("topic_contract", "project_topics"):
        spec = load_yaml(str(setting_path(key)))
        for group in ("information", "escalation", "conversation"):
            for entry in spec.get(group) or ():
                if entry["intent"] in topics:
                    raise ValueError(f"{entry['intent']} is defined twice ({key})")
                topics[entry["intent"]] = {**entry, "group": group, "source": entry.get("source", []), "origin": key}
    return topics


def contract_intents() -> List[str]:
    """The intents the read-only topic contract names (the ones the assistant must keep)."""
    return [name for name, entry in contract().items() if entry["origin"] == "topic_contract"]


@functools.cache
def titles() -> Dict[str, str]:
    """Short titles for buttons and "Did you mean ...?" (config/topics.yml)."""
    return dict(load_yaml(str(setting_path("project_topics"))).get("titles") or {})


def information_intents() -> List[str]:
    return [name for name, entry in contract().items() if entry["group"] == "information"]


@functools.cache
def source_paragraphs() -> Tuple[str, ...]:
    """The article, one paragraph per line; paragraph n is element n - 1."""
    return tuple(setting_path("source_text").read_text(encoding="utf-8").splitlines())


def paragraphs_for(intent: str) -> List[str]:
    """The source paragraphs an answer may be taken from: the topic's own, plus config/topics.yml's extra_sources."""
    extra = (load_yaml(str(setting_path("project_topics"))).get("extra_sources") or {}).get(intent, [])
    return [source_paragraphs()[n - 1] for n in list(contract()[intent]["source"]) + list(extra)]


def quotable(sentence: str) -> bool:
    """False for the source's sentences that speak as its own provider (config/topics.yml: never_quote)."""
    banned = load_yaml(str(setting_path("project_topics"))).get("never_quote") or ()
    return not any(phrase.lower() in sentence.lower() for phrase in banned)


def sentences(text: str) -> List[str]:
    return [s.strip() for s in _SENTENCE_END.split(" ".join(text.split())) if s.strip()]


def words(text: str) -> List[str]:
    return _WORD.findall(text.translate(_TRANSLATE).lower())


def _trigrams(tokens: Sequence[str]) -> Set[Tuple[str, ...]]:
    return {tuple(tokens[i : i + 3]) for i in range(max(len(tokens) - 2, 1))}


def coverage(sentence: str, reference: str) -> float:
    """Share of the sentence's word trigrams that occur in the reference text (1.0 = taken verbatim)."""
    grams = _trigrams(words(sentence))
    return len(grams & _trigrams(words(reference))) / len(grams) if grams else 1.0


def more_about(intent: str, already_shown: str, page: int = 0, per_page: int = 3) -> Optional[str]:
    """The next source sentences on a topic that its short answer did not show, or None when there are no more."""
    unseen = [
        sentence
        for paragraph in paragraphs_for(intent)
        for sentence in sentences(paragraph)
        if coverage(sentence, already_shown) < 0.6 and quotable(sentence)
    ]
    chunk = unseen[page * per_page : (page + 1) * per_page]
    return " ".join(chunk) if chunk else None
