"""The source article and the topic contract: what answers are made of and checked against."""

from __future__ import annotations

import functools
import re
from typing import Dict, List, Optional, Sequence, Set, Tuple

from bot.settings import load_yaml, setting_path

_SENTENCE_END = re.compile(r"(?<=[.!?”])\s+(?=[A-Z“])")
_WORD = re.compile(r"[a-z0-9]+")
_TRANSLATE = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "—": " ", "–": " "})


@functools.cache
def contract() -> Dict[str, Dict]:
    """Every contract intent with its group, source paragraphs and escalation level."""
    spec = load_yaml(str(setting_path("topic_contract")))
    return {
        entry["intent"]: {**entry, "group": group, "source": entry.get("source", [])}
        for group, entries in spec.items()
        for entry in entries
    }


def information_intents() -> List[str]:
    return [name for name, entry in contract().items() if entry["group"] == "information"]


@functools.cache
def source_paragraphs() -> Tuple[str, ...]:
    """The article, one paragraph per line; paragraph n is element n - 1."""
    return tuple(setting_path("source_text").read_text(encoding="utf-8").splitlines())


def paragraphs_for(intent: str) -> List[str]:
    return [source_paragraphs()[n - 1] for n in contract()[intent]["source"]]


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
        if coverage(sentence, already_shown) < 0.6
    ]
    chunk = unseen[page * per_page : (page + 1) * per_page]
    return " ".join(chunk) if chunk else None
