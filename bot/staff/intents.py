"""What the console knows about intents: the domain's list, and the topic contract's groups and escalation levels."""

from __future__ import annotations

import functools

from bot.core.content import contract
from bot.core.settings import load_yaml

LEVELS = ("none", "professional", "emergency")  # in increasing order
FALLBACK_INTENT = "nlu_fallback"
FALLBACK_ACTIONS = frozenset({"utter_please_rephrase", "action_default_fallback"})
ESCALATION_SLOT = "escalation_level"


@functools.cache
def domain_intents() -> list[str]:
    """Every intent of domain.yml, in its order (the choices for a corrected intent)."""
    names = []
    for entry in load_yaml("domain.yml").get("intents", []):
        names.append(next(iter(entry)) if isinstance(entry, dict) else str(entry))
    return names


@functools.cache
def escalation_levels() -> dict[str, str]:
    """intent -> "professional" | "emergency", from the topic contract."""
    return {name: entry["escalation"] for name, entry in contract().items() if entry.get("escalation")}


@functools.cache
def topic_intents() -> frozenset:
    """The intents that are topics (information and escalation), not small talk."""
    return frozenset(name for name, entry in contract().items() if entry["group"] != "conversation")


def higher(level: str, other: str | None) -> str:
    """The higher of two escalation levels; unknown values count as none."""
    if other not in LEVELS:
        return level
    return other if LEVELS.index(other) > LEVELS.index(level) else level
