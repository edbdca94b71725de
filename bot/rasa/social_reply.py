"""Rasa NLU component: a short everyday reply made only of config/social.yml's words ("ok ta", "bless you", "nos da")
is that reply at confidence 1, whatever the classifier made of it (bot/core/social.py). Placed before the safety
component, which still reads every message."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.core.social import social_intent
from bot.rasa.untrained import UntrainedComponent


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class SocialReply(UntrainedComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {}

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            intent = social_intent(text) if not text.startswith("/") else None
            if intent is None:
                continue
            ranking: List[Dict[Text, Any]] = list(message.get(INTENT_RANKING_KEY) or [])
            rest = [{**r, "confidence": 0.0} for r in ranking if r.get("name") != intent]  # listed for staff, at 0
            message.set(INTENT, {"name": intent, "confidence": 1.0}, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [{"name": intent, "confidence": 1.0}, *rest], add_to_output=True)
        return messages
