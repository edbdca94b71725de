"""The deterministic safety net: emergency phrases matched on spaCy lemmas.

The phrases live in config/safety.yml (syntax explained there). EmergencyDetector is plain spaCy so it can be tested
and reused on its own; bot.emergency_override wraps it as a Rasa NLU component.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Optional

import spacy
from spacy.language import Language
from spacy.matcher import Matcher
from spacy.tokens import Doc

from bot.settings import load_yaml, setting_path

# When phrases of both kinds match, the medical emergency comes first: 911 before anything else.
PRIORITY = ("emergency_medical", "emergency_self_harm")


@dataclass(frozen=True)
class Emergency:
    intent: str
    phrase: str  # the phrase of config/safety.yml that matched


def _choices(nlp: Language, item: str) -> List[List[Dict[str, Any]]]:
    """One phrase item (word, =word, a|=b, _) as its alternative token-pattern sequences."""
    if item == "_":
        return [[{"OP": "?"}]]
    exact = item.startswith("=")
    lemmas: List[str] = []
    choices: List[List[Dict[str, Any]]] = []
    for alternative in item.lstrip("=").split("|"):
        alt_exact = exact or alternative.startswith("=")
        tokens = list(nlp.make_doc(alternative.lstrip("=").lower()))
        if len(tokens) > 1 or alt_exact:
            # "can't" -> "ca", "n't": contractions are matched word by word, as written.
            choices.append([{"LOWER": t.lower_} for t in tokens])
        else:
            lemmas.append(nlp(tokens[0].text)[0].lemma_)
    if lemmas:
        choices.append([{"LEMMA": {"IN": lemmas}}])
    return choices


def _patterns(nlp: Language, phrase: str) -> List[List[Dict[str, Any]]]:
    """Every token-pattern sequence a phrase of config/safety.yml stands for."""
    choices = [_choices(nlp, item) for item in phrase.split()]
    return [sum(combination, []) for combination in itertools.product(*choices)]


class EmergencyDetector:
    def __init__(self, nlp: Language, phrases: Dict[str, Iterable[str]]) -> None:
        self.nlp = nlp
        self.matcher = Matcher(nlp.vocab)
        self._phrases: Dict[int, Emergency] = {}
        for intent, intent_phrases in phrases.items():
            for phrase in intent_phrases:
                key = f"{intent}:{phrase}"
                self.matcher.add(key, _patterns(nlp, phrase))
                self._phrases[nlp.vocab.strings[key]] = Emergency(intent, phrase)

    @classmethod
    def from_settings(cls, nlp: Optional[Language] = None) -> EmergencyDetector:
        nlp = nlp or spacy.load(setting_path("spacy_pipeline"))
        return cls(nlp, load_yaml(str(setting_path("safety_patterns"))))

    def detect_doc(self, doc: Doc) -> Optional[Emergency]:
        found = [self._phrases[match_id] for match_id, _, _ in self.matcher(doc)]
        for intent in PRIORITY:
            for emergency in found:
                if emergency.intent == intent:
                    return emergency
        return None

    def detect(self, text: str) -> Optional[Emergency]:
        return self.detect_doc(self.nlp(text.lower()))
