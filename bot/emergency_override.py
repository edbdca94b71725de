"""Rasa NLU component: the safety net's verdict overrides the classifier's intent.

Placed after the intent classifier and before the FallbackClassifier in config.yml, so an emergency phrase is never
lost to a low confidence or a wrong guess. The match is recorded in the parse data under "safety" for staff review.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

import spacy
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import SPACY_DOCS
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.safety import EmergencyDetector
from bot.settings import project_path, setting_path


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class EmergencyOverride(GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"patterns": None, "spacy_pipeline": None}

    def __init__(self, config: Dict[Text, Any]) -> None:
        pipeline = config.get("spacy_pipeline")
        nlp = spacy.load(project_path(pipeline) if pipeline else setting_path("spacy_pipeline"))
        self.detector = EmergencyDetector.from_settings(nlp)

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> EmergencyOverride:
        return cls(config)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            self._override(message)
        return messages

    def _override(self, message: Message) -> None:
        text = message.get(TEXT) or ""
        if not text.strip():
            return
        doc = message.get(SPACY_DOCS[TEXT])
        emergency = self.detector.detect_doc(doc) if doc is not None else self.detector.detect(text)
        if emergency is None:
            return
        predicted: Optional[Dict[Text, Any]] = message.get(INTENT)
        message.set(
            "safety",
            {"phrase": emergency.phrase, "classifier_intent": (predicted or {}).get("name")},
            add_to_output=True,
        )
        top = {"name": emergency.intent, "confidence": 1.0}
        ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != emergency.intent]
        message.set(INTENT, top, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [top] + ranking, add_to_output=True)
