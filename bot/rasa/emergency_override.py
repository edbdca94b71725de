"""Rasa NLU component: the safety net decides before the classifier's intent can.

Placed after the intent classifier and before the FallbackClassifier in config.yml. For each message the safety net
(bot.core.safety) says now / not now / unclear:

- now: the intent becomes the emergency intent (emergency_medical, emergency_self_harm, emergency_both, or their
  Spanish `_es` forms), at confidence 1, so no threshold or guess can lose it;
- unclear: safety_check_medical / safety_check_self_harm ("Is this happening right now?", which carries 911 and 988);
- not now: the classifier's topic stands (bot.rasa.nlg adds the "if this is happening right now" line); when the
  classifier can't place the question (its best non-emergency topic is weak), the source's own answer for that kind
  of danger (config/safety.yml `topics`) answers it;
- no danger words: the classifier's topic stands, except that the classifier may not answer with an emergency on its
  own. Its emergency guess becomes the unclear question - a second net for wordings the patterns lack, which never
  tells a family to call 911 for a question. A third net, a classifier trained on every emergency wording the
  project has (bot.core.crisis_model), asks the same question when it reads the message as an emergency, and when it
  reads a "now" of the patterns as surely no emergency (a question, a memory, a film), or a "not now" as surely one:
  it can only ever add a question.

The decision is recorded in the parse data under "safety" for the staff console (bot.core.safety.SafetyDecision.record).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Dict, List, Optional, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.core.after_emergency import help_present
from bot.core.crisis_model import LearnedNet
from bot.core.safety import ASKED, MEDICAL, NOT_NOW, NOW, SELF_HARM, SafetyDecision, SafetyNet
from bot.rasa.untrained import UntrainedComponent

CLASSIFIER_EMERGENCIES = {"emergency_medical": MEDICAL, "emergency_self_harm": SELF_HARM}


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class EmergencyOverride(UntrainedComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        # min_backstop_confidence: the classifier's own emergency guess is asked about only above this confidence
        return {"min_backstop_confidence": 0.5}

    def __init__(self, config: Dict[Text, Any]) -> None:
        self.net = SafetyNet.from_settings()
        self.learned = LearnedNet.from_settings()
        self.min_backstop = float(config.get("min_backstop_confidence", 0.5))

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            self._decide(message)
        return messages

    def _decide(self, message: Message) -> None:
        text = message.get(TEXT) or ""
        if not text.strip() or text.startswith("/"):  # buttons send intents ("/emergency_medical") directly
            return
        predicted: Dict[Text, Any] = message.get(INTENT) or {}
        ranking: List[Dict[Text, Any]] = list(message.get(INTENT_RANKING_KEY) or [])
        normal = self.net.normalise(text)  # once: the patterns, the third net and the language all read it
        decision = self.net.decide(text, normal)
        if decision is not None and decision.outcome == NOW and self.learned.doubts(text, normal):
            # the words of an emergency in what reads like a question, a memory or a story: asked about, and the
            # question carries 911 and 988 (config/safety.yml learned.doubt)
            decision = replace(decision, outcome=ASKED, group=f"{decision.group} (doubted)")
        guessed_kind = CLASSIFIER_EMERGENCIES.get(predicted.get("name", ""))
        everyday = self.learned.everyday_reply(text, predicted.get("name"), predicted.get("confidence", 0.0))
        # the third net reads wordings, not situations: "they took him to the hospital, he's breathing" says help is
        # there, "he's breathing normally" that he is fine, so neither is asked about (the patterns still decide)
        settled = everyday or help_present(text) or self.net.reassured(normal)
        if decision is not None and decision.outcome == NOT_NOW and not settled and self.learned.sure(text, normal):
            # read as a question or the past, but it reads surely like the emergencies the project has seen: asked
            decision = replace(decision, outcome=ASKED, group=f"{decision.group} (the third net: asked)")
        learned_kind = self.learned.kind(text, normal) if decision is None and not settled else None
        if learned_kind:  # no danger words, but it reads like the emergencies the project has seen: ask
            decision = SafetyDecision(ASKED, learned_kind, "", "learned", self.net.language(text, normal))
        if (decision is None and guessed_kind and predicted.get("confidence", 0) >= self.min_backstop
                and self.net.without_figures(normal) == normal):
            # the classifier's own guess is asked about, unless it rests on words the net reads as a figure of speech
            # ("if i tell my parents it'll kill them")
            decision = SafetyDecision(ASKED, guessed_kind, "", "classifier", self.net.language(text, normal))
        topic = _best_topic(ranking)  # the classifier's best answer that is not an emergency
        if decision is not None and (topic is None or topic["confidence"] < self.net.topic_min):
            # danger mentioned in a question the classifier can't place: the source's own answer for that kind
            topic = {"name": self.net.topics[MEDICAL if decision.kind == MEDICAL else SELF_HARM], "confidence": 1.0}
        if decision is None or decision.outcome == NOT_NOW:
            if guessed_kind or decision is not None:  # the classifier alone never answers with an emergency
                self._set(message, topic, ranking)
            if decision is not None:
                message.set("safety", decision.record(predicted.get("name"), topic), add_to_output=True)
            return
        message.set("safety", decision.record(predicted.get("name"), topic), add_to_output=True)
        self._set(message, {"name": decision.intent, "confidence": 1.0}, ranking, certain=True)

    @staticmethod
    def _set(
        message: Message, top: Optional[Dict[Text, Any]], ranking: List[Dict[Text, Any]], certain: bool = False
    ) -> None:
        """Put `top` first. A decision of the safety net is `certain`: the classifier's scores stay listed (staff
        see them) but at 0, so the FallbackClassifier's ambiguity margin can never turn an emergency into
        "Did you mean ...?"."""
        if top is None:
            return
        rest = [r for r in ranking if r.get("name") != top["name"]]
        if certain:
            rest = [{**r, "confidence": 0.0} for r in rest]
        else:  # a topic kept or chosen: the classifier's emergency intents are never answers, so the margin
            # the FallbackClassifier checks is the topic's over the next *topic*, renormalised as _best_topic does
            emergency = sum(r.get("confidence", 0.0) for r in rest if r.get("name") in CLASSIFIER_EMERGENCIES)
            rest = [{**r, "confidence": r.get("confidence", 0.0) / max(1e-9, 1.0 - emergency)}
                    for r in rest if r.get("name") not in CLASSIFIER_EMERGENCIES]
        message.set(INTENT, top, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [top] + rest, add_to_output=True)


def _best_topic(ranking: List[Dict[Text, Any]]) -> Optional[Dict[Text, Any]]:
    """The classifier's best guess that is not an emergency, its confidence renormalised without the emergency
    intents (so "what does an overdose look like", which shares words with emergencies, keeps a fair score for the
    FallbackClassifier to judge)."""
    others = [r for r in ranking if r.get("name") not in CLASSIFIER_EMERGENCIES]
    if not others:
        return None
    rest = sum(r.get("confidence", 0.0) for r in ranking if r.get("name") in CLASSIFIER_EMERGENCIES)
    best = others[0]
    return {"name": best["name"], "confidence": min(1.0, best.get("confidence", 0.0) / max(1e-9, 1.0 - rest))}
