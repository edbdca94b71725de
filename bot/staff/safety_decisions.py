"""The safety net's decision on a family message, as staff read it (the transcript, the list's filter, exports).

The NLU stores it in the message's parse data, parse_data["safety"]:
{"outcome": "now" | "not_now" | "asked", "kind": "medical" | "self_harm" | "both", "phrase": the matched phrase,
"language": "en" | "es", "classifier_intent": what the intent classifier itself said}. Messages stored before the
outcome existed hold only {"phrase", "classifier_intent"}: the net overrode the classifier then, so they count as
"now", and their kind is the emergency intent the net set. A message with no danger in it has no "safety" key.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

OUTCOMES = {"now": "Happening now", "not_now": "Not now", "asked": "Asked “is this happening now?”"}
KINDS = {"medical": "medical", "self_harm": "self-harm", "both": "medical and self-harm"}
LANGUAGES = {"en": "English", "es": "Spanish"}
INTENT_KINDS = {"emergency_medical": "medical", "emergency_self_harm": "self_harm"}
OLD_OUTCOME = "now"


@dataclass(frozen=True)
class SafetyDecision:
    outcome: str
    phrase: str = ""
    kind: str = ""
    language: str = ""
    classifier_intent: str = ""

    @property
    def outcome_label(self) -> str:
        return OUTCOMES.get(self.outcome, self.outcome)

    @property
    def kind_label(self) -> str:
        return KINDS.get(self.kind, self.kind)

    @property
    def language_label(self) -> str:
        return LANGUAGES.get(self.language, self.language)

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def decision(parse_data: Any, intent: str | None = None) -> SafetyDecision | None:
    """The decision stored in a message's parse data (None when the net found no danger); `intent` is the message's
    stored intent, which gives the kind of an older decision that has none."""
    raw = parse_data.get("safety") if isinstance(parse_data, dict) else None
    if not isinstance(raw, dict):
        return None
    kind = _text(raw.get("kind")) or ("" if "outcome" in raw else INTENT_KINDS.get(intent or "", ""))
    return SafetyDecision(
        outcome=_text(raw.get("outcome")) or OLD_OUTCOME,
        phrase=_text(raw.get("phrase")),
        kind=kind,
        language=_text(raw.get("language")),
        classifier_intent=_text(raw.get("classifier_intent")),
    )


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""
