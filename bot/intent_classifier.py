"""Rasa's LogisticRegressionClassifier with its coefficients laid out for predicting one message at a time.

scikit-learn predicts with ``X @ coef_.T``. Stored row-major, ``coef_.T`` is column-major, and SciPy copies it
(intents x n-gram features: about 4 MB here) on every prediction to multiply it with the sparse message vector:
2.2 ms a message against 0.09 ms with the column-major copy made once at load. The predictions are the same.
"""

from __future__ import annotations

from typing import Any, Dict, Text

import numpy as np
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.training_data.training_data import TrainingData


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class FastLogisticRegressionClassifier(LogisticRegressionClassifier):
    """`name: bot.intent_classifier.FastLogisticRegressionClassifier` in config.yml, with Rasa's options."""

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> LogisticRegressionClassifier:
        component = super().load(config, model_storage, resource, execution_context, **kwargs)
        _column_major(component)
        return component

    def train(self, training_data: TrainingData) -> Resource:
        resource = super().train(training_data)
        _column_major(self)
        return resource

def _column_major(component: LogisticRegressionClassifier) -> None:
    coefficients = getattr(component.clf, "coef_", None)
    if coefficients is not None:
        component.clf.coef_ = np.asfortranarray(coefficients)

