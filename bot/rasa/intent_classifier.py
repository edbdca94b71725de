"""Rasa's LogisticRegressionClassifier, made cheap for predicting one message at a time, with optional tf-idf.

- scikit-learn predicts with ``X @ coef_.T``. Stored row-major, ``coef_.T`` is column-major, and SciPy copies it
  (intents x n-gram features: about 4 MB here) on every prediction to multiply it with the sparse message vector:
  2.2 ms a message against 0.09 ms with the column-major copy made once at load.
- Rasa builds the feature matrix by combining each message's sparse sentence *and* sequence features (copying them)
  and stacking them with an empty dense block; when a message has no dense features (this pipeline has none) its
  sentence features are joined directly. With the defaults, predictions are Rasa's (tests/test_intent_classifier.py).
- `tfidf: true` weights each featurizer's counts as scikit-learn's TfidfTransformer(sublinear_tf=True) would
  (1 + log count, times the inverse document frequency learnt in training, unit length per featurizer), and `C`
  sets the regularisation Rasa's class leaves at 1.0. Chosen by cross-validation (README, "Understanding").
- `model: linear_svc` swaps the logistic regression for scikit-learn's LinearSVC (squared hinge, one-vs-rest, `C`,
  class-balanced) on the same features, its decision scores turned into a ranking by a softmax at `temperature`. On
  5-fold cross-validation (a scikit-learn replica of this pipeline, same data) it was right more often (92.2% against
  91.6% before any fallback) and, asking about the same share of messages, confidently wrong less often (3.7% against
  4.4% of messages with 8% asked), and it trains in seconds instead of minutes (README, "Numbers"). The temperature
  only sets how the FallbackClassifier's thresholds read the scores; they are tuned on cross-validation with it.
- `sentence_model: <dir>` adds a second LinearSVC that also sees the message's sentence embedding
  (bot/core/sentence_encoder.py, all-MiniLM-L6-v2, scaled by `sentence_weight`). It is a cascade: the word model
  answers alone when the margin between its two likeliest intents is at least `sentence_below_margin`; only the
  messages it is unsure of (a quarter of the cross-validation messages, under a tenth of the blind sets') pay the
  encoder's ~10 ms. On 5-fold cross-validation (`make eval`) it was right for 92.5% of messages against 87.9% (asked
  3.7% against 7.7%, confidently wrong 3.8% against 4.5%; README, "Numbers").
- One message's row is built on its arrays (each count times its idf, the featurizers' blocks side by side):
  SciPy's sparse product with a diagonal matrix and its stacking cost a sixth of a turn for a one-row matrix.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional, Text

import numpy as np
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from rasa.utils.tensorflow.constants import RANKING_LENGTH
from scipy.sparse import csr_matrix, diags, hstack, vstack
from sklearn.preprocessing import normalize
from sklearn.svm import LinearSVC

IDF_FILE = "idf.npz"
SENTENCE_FILE = "with_sentences.skops"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class FastLogisticRegressionClassifier(LogisticRegressionClassifier):
    """`name: bot.rasa.intent_classifier.FastLogisticRegressionClassifier` in config.yml, with Rasa's options."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {**LogisticRegressionClassifier.get_default_config(), "tfidf": False, "C": 1.0,
                "model": "logistic_regression", "temperature": 0.1,
                "sentence_model": None, "sentence_weight": 1.5, "sentence_below_margin": 0.8,
                "sentence_never_first": []}

    def __init__(self, config: Dict[Text, Any], *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        if self.config.get("model") == "linear_svc":
            self.clf = LinearSVC(C=float(self.config.get("C", 1.0)), class_weight="balanced",  # as Rasa's
                                 random_state=self.config.get("random_state"))  # logistic regression: a new topic
            # has fewer examples than the old ones
        elif self.config.get("model") == "logistic_regression":
            self.clf.C = float(self.config.get("C", 1.0))
        else:
            raise ValueError(f"model: {self.config.get('model')!r} (logistic_regression or linear_svc)")
        self.idf: Optional[List[np.ndarray]] = None  # one vector per featurizer, when tf-idf is on
        self.with_sentences: Optional[LinearSVC] = None  # the cascade's second model (`sentence_model`)

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
        if isinstance(component, FastLogisticRegressionClassifier) and component.config.get("tfidf"):
            with model_storage.read_from(resource) as model_dir:
                stored = np.load(model_dir / IDF_FILE)
                component.idf = [stored[f"block{i}"] for i in range(len(stored.files))]
        if isinstance(component, FastLogisticRegressionClassifier) and component.config.get("sentence_model"):
            import skops.io as sio

            with model_storage.read_from(resource) as model_dir:
                path = model_dir / SENTENCE_FILE
                component.with_sentences = sio.load(path, trusted=sio.get_untrusted_types(file=path))
            _column_major(component.with_sentences)
            # the encoder's 90 MB of weights read now, at the server's start, not by the first family whose
            # message the word model is unsure of (that parse took 185 ms instead of ~25, nlu_blind26, stop 23)
            component._encoder()
        _column_major(component)
        return component

    def _encoder(self) -> Any:
        from bot.core.sentence_encoder import shared_encoder

        return shared_encoder(Path(self.config["sentence_model"]))

    def _with_sentence(self, X: csr_matrix, texts: List[str]) -> csr_matrix:
        embedded = self._encoder().encode_all(texts) * float(self.config.get("sentence_weight", 1.0))
        return hstack([X, csr_matrix(embedded)], format="csr")

    @staticmethod
    def _blocks(message: Message) -> List[Any]:
        """Each featurizer's sparse sentence features, in message order."""
        return [
            f.features for f in message.features
            if f.attribute == TEXT and f.is_sparse() and f.type == FEATURE_TYPE_SENTENCE
        ]

    def _create_X(self, messages: List[Message]) -> csr_matrix:
        rows = []
        for message in messages:
            # the sentence features of each featurizer, in message order, as Message.get_sparse_features combines
            # them (without also combining the sequence features, which the classifier does not use)
            sentence = self._blocks(message)
            if not sentence or message.get_dense_features(attribute=TEXT)[1] is not None:
                rows.append(super()._create_X([message]))
            elif self.idf is not None:
                rows.append(_side_by_side([_weigh(csr_matrix(b), idf) for b, idf in zip(sentence, self.idf,
                                                                                          strict=True)]))
            else:
                rows.append(csr_matrix(sentence[0]) if len(sentence) == 1 else hstack(sentence, format="csr"))
        return rows[0] if len(rows) == 1 else vstack(rows, format="csr")

    def _probabilities(self, X: csr_matrix, model: Optional[LinearSVC] = None) -> np.ndarray:
        """The softmax of the LinearSVC's scores at `temperature`."""
        model = self.clf if model is None else model
        scores = np.atleast_2d(model.decision_function(X)) / float(self.config.get("temperature", 0.1))
        scores -= scores.max(axis=1, keepdims=True)
        exp = np.exp(scores)
        return exp / exp.sum(axis=1, keepdims=True)

    def _cascade(self, X: csr_matrix, messages: List[Message]) -> np.ndarray:
        """The word model's probabilities, replaced by the sentence model's where the word model is unsure."""
        probabilities = self._probabilities(X)
        if self.with_sentences is None:
            return probabilities
        ranked = np.sort(probabilities, axis=1)
        unsure = np.flatnonzero(ranked[:, -1] - ranked[:, -2] < float(self.config["sentence_below_margin"]))
        if len(unsure):
            texts = [messages[i].get(TEXT) or "" for i in unsure]
            rows = X[unsure] if len(messages) > 1 else X
            again = self._probabilities(self._with_sentence(rows, texts), self.with_sentences)
            # the sentence model never puts an intent of `sentence_never_first` (the emergencies: the safety net
            # and the word model decide those) first where the word model did not
            classes = list(self.clf.classes_)
            never = [classes.index(n) for n in self.config.get("sentence_never_first") or () if n in classes]
            for row, i in enumerate(unsure):
                first = int(again[row].argmax())
                if first not in never or int(probabilities[i].argmax()) == first:
                    probabilities[i] = again[row]
        return probabilities

    def process(self, messages: List[Message]) -> List[Message]:
        """Rasa's process, with the ranking from `_probabilities` (the softmax of a LinearSVC's scores)."""
        if not isinstance(self.clf, LinearSVC):
            return super().process(messages)
        probabilities = self._cascade(self._create_X(messages), messages)
        for row, message in zip(probabilities, messages, strict=True):
            ranking = sorted(
                ({"name": name, "confidence": float(p)} for name, p in zip(self.clf.classes_, row, strict=True)),
                key=lambda entry: -entry["confidence"],
            )
            intent = ranking[0]
            if self.config[RANKING_LENGTH] > 0:
                ranking = ranking[: self.config[RANKING_LENGTH]]
            message.set("intent", intent, add_to_output=True)
            message.set("intent_ranking", ranking, add_to_output=True)
        return messages

    def train(self, training_data: TrainingData) -> Resource:
        if self.config.get("tfidf"):
            examples = [e for e in training_data.intent_examples if e.get("intent") and e.get("text")]
            blocks = [[csr_matrix(b) for b in self._blocks(e)] for e in examples]
            if blocks and blocks[0]:
                n = len(blocks)
                self.idf = []
                for i in range(len(blocks[0])):
                    counts = vstack([row[i] for row in blocks], format="csr")
                    df = np.bincount(counts.indices, minlength=counts.shape[1])
                    self.idf.append(np.log((1 + n) / (1 + df)) + 1.0)
        resource = super().train(training_data)
        if self.idf is not None:
            with self._model_storage.write_to(self._resource) as model_dir:
                np.savez(model_dir / IDF_FILE, **{f"block{i}": idf for i, idf in enumerate(self.idf)})
        if self.config.get("sentence_model") and isinstance(self.clf, LinearSVC):
            import skops.io as sio
            from sklearn.base import clone

            X, y = self._create_training_matrix(training_data)
            texts = [e.get(TEXT) for e in training_data.intent_examples if e.get("intent") and e.get("text")]
            if X.shape[0]:
                self.with_sentences = clone(self.clf).fit(self._with_sentence(X, texts), y)
                with self._model_storage.write_to(self._resource) as model_dir:
                    sio.dump(self.with_sentences, model_dir / SENTENCE_FILE)
                _column_major(self.with_sentences)
        _column_major(self)
        return resource


def _weigh(counts: csr_matrix, idf: np.ndarray) -> csr_matrix:
    """Sublinear tf (1 + log count) times idf, scaled to unit length.

    For one row, the entries are those SciPy's product with diag(idf) gave, in its order (columns descending), so
    the unit length is summed in the same order and the features are the same to the last bit."""
    weighted = counts.astype(np.float64)
    weighted.data = 1.0 + np.log(weighted.data)
    if weighted.shape[0] != 1:
        return normalize(weighted @ diags(idf), norm="l2", copy=False)
    weighted.sum_duplicates()
    order = slice(None, None, -1)
    data = weighted.data[order] * idf[weighted.indices[order]]
    row = csr_matrix((data, weighted.indices[order].copy(), weighted.indptr.copy()), shape=weighted.shape)
    return normalize(row, norm="l2", copy=False)


def _side_by_side(blocks: List[csr_matrix]) -> csr_matrix:
    """scipy.sparse.hstack(blocks, format="csr") for one-row blocks, without going through COO."""
    if len(blocks) == 1 or any(block.shape[0] != 1 for block in blocks):
        return blocks[0] if len(blocks) == 1 else hstack(blocks, format="csr")
    offsets = np.cumsum([0, *(block.shape[1] for block in blocks[:-1])])
    data = np.concatenate([block.data for block in blocks])
    indices = np.concatenate([block.indices + offset for block, offset in zip(blocks, offsets, strict=True)])
    width = sum(block.shape[1] for block in blocks)
    return csr_matrix((data, indices, np.array([0, len(data)])), shape=(1, width))


def _column_major(component: Any) -> None:
    """The classifier's coefficients column-major, for one-row products (see the module's docstring)."""
    model = getattr(component, "clf", component)
    coefficients = getattr(model, "coef_", None)
    if coefficients is not None:
        model.coef_ = np.asfortranarray(coefficients)
