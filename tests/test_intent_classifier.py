"""bot.rasa.intent_classifier gives the same features and predictions as Rasa's LogisticRegressionClassifier."""

from __future__ import annotations

from typing import List

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, FEATURE_TYPE_SEQUENCE, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from scipy.sparse import coo_matrix

from bot.rasa.intent_classifier import FastLogisticRegressionClassifier

WIDTH = 40


def message(seed: int, intent: str = "", dense: bool = False) -> Message:
    rng = np.random.default_rng(seed)
    vector = coo_matrix(rng.integers(0, 2, size=(1, WIDTH)) * rng.random((1, WIDTH)))
    result = Message(data={TEXT: f"message {seed}", **({"intent": intent} if intent else {})})
    half = WIDTH // 2  # two featurizers, as in config.yml (word and character n-grams)
    result.add_features(Features(vector.tocsr()[:, :half].tocoo(), FEATURE_TYPE_SENTENCE, TEXT, "words"))
    result.add_features(Features(coo_matrix(np.ones((2, half))), FEATURE_TYPE_SEQUENCE, TEXT, "words"))
    result.add_features(Features(vector.tocsr()[:, half:].tocoo(), FEATURE_TYPE_SENTENCE, TEXT, "characters"))
    result.add_features(Features(coo_matrix(np.ones((2, half))), FEATURE_TYPE_SEQUENCE, TEXT, "characters"))
    if dense:
        result.add_features(Features(rng.random((1, 3)), FEATURE_TYPE_SENTENCE, TEXT, "dense"))
    return result


@pytest.fixture
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple:
    storage = LocalModelStorage(tmp_path_factory.mktemp("models"))
    context = ExecutionContext(graph_schema=None, node_name="lr")  # type: ignore[arg-type]
    config = {**LogisticRegressionClassifier.get_default_config(), "random_state": 1}
    ours = FastLogisticRegressionClassifier.create(config, storage, Resource("lr"), context)
    examples = [message(seed, intent=f"intent_{seed % 4}") for seed in range(60)]
    ours.train(TrainingData(examples))
    theirs = LogisticRegressionClassifier.create(config, storage, Resource("lr"), context)
    theirs.clf = ours.clf
    loaded = FastLogisticRegressionClassifier.load(config, storage, Resource("lr"), context)
    return ours, theirs, loaded


def test_features_are_the_same_as_rasa_builds(trained: tuple) -> None:
    ours, theirs, _ = trained
    for messages in ([message(100)], [message(101), message(102)], [message(103, dense=True)]):
        assert (ours._create_X(messages) != theirs._create_X(messages)).nnz == 0


def test_the_loaded_classifier_is_column_major_and_predicts_as_rasa(trained: tuple) -> None:
    ours, theirs, loaded = trained
    assert loaded.clf.coef_.flags["F_CONTIGUOUS"] and ours.clf.coef_.flags["F_CONTIGUOUS"]
    new: List[Message] = [message(seed) for seed in range(200, 230)]
    expected = [theirs.process([Message(data=m.data.copy(), features=list(m.features))])[0] for m in new]
    for ours_message, rasa_message in zip(loaded.process(new), expected, strict=True):
        assert ours_message.get("intent") == rasa_message.get("intent")
        assert ours_message.get("intent_ranking") == pytest.approx(rasa_message.get("intent_ranking"))


def test_tfidf_rows_are_those_of_scipys_product_and_stacking() -> None:
    """The weighting on the row's arrays gives the matrix the former sparse product with diag(idf), normalize and
    hstack gave (same entries, same order), for one message and for several."""
    from scipy.sparse import csr_matrix, diags, hstack
    from sklearn.preprocessing import normalize

    from bot.rasa import intent_classifier

    def product_way(counts: csr_matrix, idf: np.ndarray) -> csr_matrix:
        weighted = counts.astype(np.float64)
        weighted.data = 1.0 + np.log(weighted.data)
        return normalize(weighted @ diags(idf), norm="l2", copy=False)

    rng = np.random.default_rng(3)
    for _ in range(50):
        blocks = [coo_matrix(rng.integers(0, 3, size=(1, width)) * (rng.random((1, width)) < 0.3))
                  for width in (17, 23)]
        idf = [1 + rng.random(17) * 4, 1 + rng.random(23) * 4]
        pairs = list(zip(blocks, idf, strict=True))
        ours = intent_classifier._side_by_side([intent_classifier._weigh(csr_matrix(b), i) for b, i in pairs])
        theirs = hstack([product_way(csr_matrix(b), i) for b, i in pairs], format="csr")
        assert ours.shape == theirs.shape and (ours != theirs).nnz == 0
        assert np.array_equal(ours.indices, theirs.indices) and np.array_equal(ours.data, theirs.data)


def test_linear_svc_ranks_by_the_softmax_of_its_scores(tmp_path_factory: pytest.TempPathFactory) -> None:
    """`model: linear_svc` (config.yml): the ranking is a softmax of scikit-learn's LinearSVC scores at the configured
    temperature, the same after the model is saved and loaded (skops), column-major, with Rasa's ranking length."""
    from sklearn.svm import LinearSVC

    storage = LocalModelStorage(tmp_path_factory.mktemp("models"))
    context = ExecutionContext(graph_schema=None, node_name="svc")  # type: ignore[arg-type]
    config = {**FastLogisticRegressionClassifier.get_default_config(), "model": "linear_svc", "C": 0.5,
              "temperature": 0.2, "random_state": 1, "ranking_length": 3}
    ours = FastLogisticRegressionClassifier.create(config, storage, Resource("svc"), context)
    examples = [message(seed, intent=f"intent_{seed % 4}") for seed in range(60)]
    ours.train(TrainingData(examples))
    loaded = FastLogisticRegressionClassifier.load(config, storage, Resource("svc"), context)
    assert isinstance(loaded.clf, LinearSVC) and loaded.clf.C == 0.5 and loaded.clf.coef_.flags["F_CONTIGUOUS"]
    reference = LinearSVC(C=0.5, class_weight="balanced", random_state=1)
    reference.fit(ours._create_X(examples), [e.get("intent") for e in examples])
    new = [message(seed) for seed in range(300, 320)]
    scores = reference.decision_function(ours._create_X(new)) / 0.2
    expected = np.exp(scores - scores.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    for processed, row in zip(loaded.process(new), expected, strict=True):
        ranking = processed.get("intent_ranking")
        order = np.argsort(-row)[:3]
        assert [r["name"] for r in ranking] == [reference.classes_[i] for i in order]
        assert [r["confidence"] for r in ranking] == pytest.approx(row[order].tolist())
        assert processed.get("intent") == ranking[0]


def test_an_unknown_model_is_refused() -> None:
    storage = LocalModelStorage.__new__(LocalModelStorage)
    context = ExecutionContext(graph_schema=None, node_name="x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="linear_svc"):
        FastLogisticRegressionClassifier.create({"model": "svm"}, storage, Resource("x"), context)


class FakeEncoder:
    """Deterministic stand-in for the sentence encoder (tests/test_sentence_encoder.py tests the real one)."""

    def encode_all(self, texts: List[str]) -> np.ndarray:
        return np.stack([np.random.default_rng(int(t.split()[-1])).random(8) for t in texts])


@pytest.mark.parametrize("below", [0.0, 0.5, 1.01])
def test_the_sentence_model_answers_only_what_the_word_model_is_unsure_of(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch, below: float
) -> None:
    """`sentence_model` (config.yml): a second LinearSVC on the word features plus the sentence embedding, saved and
    loaded with the model, ranks exactly the messages whose word-model margin is under `sentence_below_margin`, and
    never puts an intent of `sentence_never_first` first where the word model did not."""
    from scipy.sparse import csr_matrix, hstack
    from sklearn.svm import LinearSVC

    from bot.core import sentence_encoder

    monkeypatch.setattr(sentence_encoder, "shared_encoder", lambda path: FakeEncoder())
    storage = LocalModelStorage(tmp_path_factory.mktemp("models"))
    context = ExecutionContext(graph_schema=None, node_name="svc")  # type: ignore[arg-type]
    config = {**FastLogisticRegressionClassifier.get_default_config(), "model": "linear_svc", "temperature": 0.2,
              "random_state": 1, "ranking_length": 0, "sentence_model": "unused", "sentence_weight": 2.0,
              "sentence_below_margin": below, "sentence_never_first": ["intent_0"]}
    ours = FastLogisticRegressionClassifier.create(config, storage, Resource("svc"), context)
    examples = [message(seed, intent=f"intent_{seed % 4}") for seed in range(60)]
    ours.train(TrainingData(examples))
    loaded = FastLogisticRegressionClassifier.load(config, storage, Resource("svc"), context)
    assert isinstance(loaded.with_sentences, LinearSVC) and loaded.with_sentences.coef_.flags["F_CONTIGUOUS"]
    new = [message(seed) for seed in range(400, 440)]
    words = loaded._probabilities(loaded._create_X(new))
    embedded = hstack([loaded._create_X(new), csr_matrix(FakeEncoder().encode_all([m.get(TEXT) for m in new]) * 2)])
    sentences = loaded._probabilities(embedded.tocsr(), loaded.with_sentences)
    classes = list(loaded.clf.classes_)
    used = replaced = 0
    for i, processed in enumerate(loaded.process(new)):
        ranked = np.sort(words[i])
        unsure = ranked[-1] - ranked[-2] < below
        blocked = classes[int(sentences[i].argmax())] == "intent_0" and int(words[i].argmax()) != 0
        expected = sentences[i] if unsure and not blocked else words[i]
        confidences = {r["name"]: r["confidence"] for r in processed.get("intent_ranking")}
        assert [confidences[c] for c in classes] == pytest.approx(expected.tolist())
        used += unsure
        replaced += unsure and not blocked and int(sentences[i].argmax()) != int(words[i].argmax())
    assert used == {0.0: 0, 1.01: len(new)}.get(below, used)
    if below == 1.01:
        assert replaced, "the sentence model never changed an answer: the test would not see it used"


def test_the_sentence_encoder_is_read_when_the_model_loads(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The encoder's weights are read at load (the server's start), not by the first message the word model is
    unsure of: that family waited 185 ms instead of ~25 (nlu_blind26, stop 23)."""
    from bot.core import sentence_encoder

    asked: List[str] = []
    monkeypatch.setattr(sentence_encoder, "shared_encoder", lambda path: asked.append(str(path)) or FakeEncoder())
    storage = LocalModelStorage(tmp_path_factory.mktemp("models"))
    context = ExecutionContext(graph_schema=None, node_name="svc")  # type: ignore[arg-type]
    config = {**FastLogisticRegressionClassifier.get_default_config(), "model": "linear_svc", "random_state": 1,
              "sentence_model": "the-encoder-dir"}
    FastLogisticRegressionClassifier.create(config, storage, Resource("svc"), context).train(
        TrainingData([message(seed, intent=f"intent_{seed % 3}") for seed in range(30)]))
    asked.clear()  # training encodes its examples
    FastLogisticRegressionClassifier.load(config, storage, Resource("svc"), context)
    assert asked == ["the-encoder-dir"]
