"""The safety net's third net: a small classifier of danger wordings the patterns lack.

Each blind crisis set written so far found wordings no pattern had (first runs: recall 86-98%), mostly indirect
signs of suicide risk. A classifier learns the shape of those messages from every example the project has of
them - the emergency intents of data/nlu.yml and the crisis tuning sets (config/safety.yml `learned`) - and
generalises past exact phrases: on each crisis set held out in turn it lifted the newest set's recall from 40 to
47 of 52 (0.5 threshold), without asking about any of 432 ordinary questions of tests/nlu_blind2.yml.

It only ever *asks* ("Is this happening right now?", which carries 911 and 988): a learned guess never gives the
emergency answer by itself, and it runs only when the patterns found no danger words. It is trained from the files
when first used (the Rasa server's start, `make eval`) and kept in a cache (config/bot.yml `learned_net_cache`)
under a fingerprint of everything it is made from: with 43 crisis sets training takes ~20 s on this machine, and a
Rasa replica killed in production must answer again within 30 s. A changed file means a new fingerprint, so the
cache is never out of step with the files.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import joblib
import numpy as np
import sklearn
from scipy.sparse import hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from bot.core.safety import MEDICAL, SELF_HARM, SafetyNet
from bot.core.settings import load_yaml, project_path, setting_path, settings

LOGGER = logging.getLogger(__name__)
NONE = "none"
# training labels: the NLU intents and the crisis sets' expectations, by kind of danger
KINDS = {
    "emergency_medical": MEDICAL, "emergency_medical_es": MEDICAL,
    "emergency_self_harm": SELF_HARM, "emergency_self_harm_es": SELF_HARM,
    "emergency_both": SELF_HARM, "emergency_both_es": SELF_HARM,  # the question carries 911 and 988 either way
}
_ENTITY = re.compile(r"\[([^\]]+)\]\([^)]+\)")


class LearnedNet:
    def __init__(self, fitted: Dict[str, Any], net: SafetyNet, threshold: float,
                 everyday: Optional[Dict[str, Any]] = None, doubt: Optional[float] = None,
                 sure: Optional[float] = None) -> None:
        self.net, self.threshold, self.doubt, self.sure_at = net, threshold, doubt, sure
        self.everyday = everyday or {}
        self.words, self.chars, self.model = fitted["words"], fitted["chars"], fitted["model"]
        self.none = list(self.model.classes_).index(NONE)
        self.scorer = _Scorer(self.words, self.chars, self.model)

    @staticmethod
    def fit(examples: List[Tuple[str, str]], net: SafetyNet, c: float) -> Dict[str, Any]:
        """The fitted parts (word and character vectorisers, the classifier) for these examples."""
        texts = [net.normalise(text) for text, _ in examples]
        words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True).fit(texts)
        chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, min_df=2).fit(texts)
        model = LogisticRegression(C=c, max_iter=2000, class_weight="balanced", random_state=0)
        model.fit(_features(words, chars, texts), [kind for _, kind in examples])
        return {"words": words, "chars": chars, "model": model}

    @classmethod
    @functools.cache
    def from_settings(cls) -> LearnedNet:
        config = load_yaml(str(setting_path("safety_patterns")))["learned"]
        net = SafetyNet.from_settings()
        path = cache_path(config)
        try:
            fitted = joblib.load(path)
        except (OSError, EOFError, ValueError, KeyError, AttributeError, ImportError):  # none yet, or unreadable
            fitted = cls.fit(training_examples(config["sets"]), net, float(config["C"]))
            save_fitted(fitted, path)
        doubt, sure = config.get("doubt"), config.get("sure")
        return cls(fitted, net, float(config["threshold"]), config.get("everyday"),
                   None if doubt is None else float(doubt), None if sure is None else float(sure))

    def everyday_reply(self, text: str, intent: Optional[str], confidence: float) -> bool:
        """A short everyday reply the classifier is sure of (config/safety.yml learned.everyday): not read."""
        return (intent in self.everyday.get("intents", ()) and confidence >= self.everyday.get("min_confidence", 1.0)
                and len(text.split()) <= self.everyday.get("max_words", 0))

    def _features(self, normal: List[str]):  # noqa: ANN202 - a SciPy sparse matrix
        return _features(self.words, self.chars, normal)

    def _probabilities(self, text: str, normal: Optional[str]):  # noqa: ANN202 - a NumPy row
        normal = self.net.without_figures(self.net.normalise(text) if normal is None else normal)
        return self.scorer.probabilities(normal)

    def kind(self, text: str, normal: Optional[str] = None) -> Optional[str]:
        """medical or self_harm when the message reads like an emergency (probability >= threshold), else None.
        `normal`: the text as SafetyNet.normalise already made it."""
        probabilities = self._probabilities(text, normal)
        if 1.0 - probabilities[self.none] < self.threshold:
            return None
        ranked = sorted((p, k) for p, k in zip(probabilities, self.model.classes_, strict=True) if k != NONE)
        return ranked[-1][1]

    def doubts(self, text: str, normal: Optional[str] = None) -> bool:
        """Whether the net reads the message as no emergency with probability >= `doubt` (config/safety.yml): the
        patterns' "happening now" is then asked about instead ("the kids movie had someone overdose in it and now my
        9 yo is asking if daddy will die"). Never the other way: the net only ever adds a question."""
        return self.doubt is not None and self._probabilities(text, normal)[self.none] >= self.doubt

    def sure(self, text: str, normal: Optional[str] = None) -> bool:
        """Whether the net reads the message as an emergency with probability >= `sure` (config/safety.yml): a "not
        now" of the patterns is then asked about ("husband took his ativan and his oxy on purpose, he said he doesnt
        want to wake up, hes out now", read as a hypothetical). Again it only ever adds a question."""
        return self.sure_at is not None and 1.0 - self._probabilities(text, normal)[self.none] >= self.sure_at


def _features(words: TfidfVectorizer, chars: TfidfVectorizer, normal: List[str]):  # noqa: ANN202 - sparse matrix
    return hstack([words.transform(normal), chars.transform(normal)]).tocsr()


class _Scorer:
    """predict_proba of the fitted vectorisers and classifier for one message, computed directly: the same n-grams
    (the vectorisers' own analyzers), sublinear tf-idf, l2 norm per vectoriser and softmax of the linear scores.
    scikit-learn's transform and predict_proba build and check sparse matrices for each call - 2.2 ms a message, most
    of a parse - where this takes about 0.2 ms; tests/test_safety.py holds it to predict_proba."""

    def __init__(self, words: TfidfVectorizer, chars: TfidfVectorizer, model: LogisticRegression) -> None:
        self.parts = []
        offset = 0
        for vectoriser in (words, chars):
            self.parts.append((vectoriser.build_analyzer(), vectoriser.vocabulary_, vectoriser.idf_, offset))
            offset += len(vectoriser.vocabulary_)
        self.coef, self.intercept = np.asarray(model.coef_), np.asarray(model.intercept_)

    def probabilities(self, normal: str) -> np.ndarray:
        columns, values = [], []
        for analyzer, vocabulary, idf, offset in self.parts:
            counts: Dict[int, int] = {}
            for gram in analyzer(normal):
                column = vocabulary.get(gram)
                if column is not None:
                    counts[column] = counts.get(column, 0) + 1
            if not counts:
                continue
            found = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
            weights = (np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts))) + 1.0) * idf[found]
            columns.append(found + offset)
            values.append(weights / np.sqrt(np.dot(weights, weights)))
        scores = self.intercept.copy()
        if columns:
            scores += self.coef[:, np.concatenate(columns)] @ np.concatenate(values)
        if scores.shape[0] == 1:  # two classes: scikit-learn's logistic of the one score
            positive = 1.0 / (1.0 + np.exp(-scores[0]))
            return np.array([1.0 - positive, positive])
        exponentials = np.exp(scores - scores.max())
        return exponentials / exponentials.sum()


def cache_path(config: Dict[str, Any]) -> Path:
    """Where the net fitted from these files is kept: named by a fingerprint of every input - the training files,
    the patterns that normalise the text, this code, the settings and scikit-learn's version."""
    digest = hashlib.sha256(f"{sklearn.__version__} C={config['C']}".encode())
    for relative in ("data/nlu.yml", str(setting_path("safety_patterns")), *config["sets"]):
        digest.update(project_path(relative).read_bytes())
    for module in (__file__, SafetyNet.__module__.replace(".", "/") + ".py"):
        digest.update(project_path(module).read_bytes())
    return project_path(settings()["learned_net_cache"]) / f"{digest.hexdigest()[:20]}.joblib"


def save_fitted(fitted: Dict[str, Any], path: Path) -> None:
    """Written whole or not at all: two Rasa replicas starting together may both fit and save. Nets kept for
    other fingerprints are removed: the data they were fitted from has changed."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".part")
        os.close(handle)
        joblib.dump(fitted, temporary)
        os.replace(temporary, path)
        for old in path.parent.glob("*.joblib"):
            if old != path:  # a net fitted from older data: about 4 MB each, never read again
                old.unlink(missing_ok=True)
    except OSError as error:  # a read-only install still works: it fits again at the next start
        LOGGER.warning("learned net not cached (%s): %s", path.parent, error.strerror)


def training_examples(sets: List[str]) -> List[Tuple[str, str]]:
    """(text, medical / self_harm / none): every example of data/nlu.yml and every case of the crisis sets."""
    examples = []
    for item in load_yaml("data/nlu.yml")["nlu"]:
        if "intent" in item:
            kind = KINDS.get(item["intent"], NONE)
            examples += [(_ENTITY.sub(r"\1", line[2:]), kind) for line in item["examples"].splitlines()
                         if line.startswith("- ")]
    for path in sets:
        cases = load_yaml(str(project_path(path)))["cases"]
        examples += [(case["text"], KINDS.get(case["expect"], NONE)) for case in cases]
    return examples

