"""The safety net's third net: a small classifier of danger wordings the patterns lack.

Each blind crisis set written so far found wordings no pattern had (first runs: recall 86-98%), mostly indirect
signs of suicide risk. A classifier learns the shape of those messages from every example the project has of
them - the emergency intents of data/nlu.yml and the crisis tuning sets (config/safety.yml `learned`) - and
generalises past exact phrases: on each crisis set held out in turn it lifted the newest set's recall from 40 to
47 of 52 (0.5 threshold), without asking about any of 432 ordinary questions of tests/nlu_blind2.yml.

It only ever *asks* ("Is this happening right now?", which carries 911 and 988): a learned guess never gives the
emergency answer by itself, and it runs only when the patterns found no danger words. It trains in about 1.5 s
when first used (the Rasa server's start, `make eval`) from the files, so there is no artefact to keep in step.
"""

from __future__ import annotations

import functools
import re
from typing import Any, Dict, List, Optional, Tuple

from scipy.sparse import hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from bot.core.safety import MEDICAL, SELF_HARM, SafetyNet
from bot.core.settings import load_yaml, project_path, setting_path

NONE = "none"
# training labels: the NLU intents and the crisis sets' expectations, by kind of danger
KINDS = {
    "emergency_medical": MEDICAL, "emergency_medical_es": MEDICAL,
    "emergency_self_harm": SELF_HARM, "emergency_self_harm_es": SELF_HARM,
    "emergency_both": SELF_HARM, "emergency_both_es": SELF_HARM,  # the question carries 911 and 988 either way
}
_ENTITY = re.compile(r"\[([^\]]+)\]\([^)]+\)")


class LearnedNet:
    def __init__(self, examples: List[Tuple[str, str]], net: SafetyNet, threshold: float, c: float,
                 everyday: Optional[Dict[str, Any]] = None) -> None:
        self.net, self.threshold = net, threshold
        self.everyday = everyday or {}
        texts = [net.normalise(text) for text, _ in examples]
        self.words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True).fit(texts)
        self.chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, min_df=2).fit(texts)
        self.model = LogisticRegression(C=c, max_iter=2000, class_weight="balanced", random_state=0)
        self.model.fit(self._features(texts), [kind for _, kind in examples])
        self.none = list(self.model.classes_).index(NONE)

    @classmethod
    @functools.cache
    def from_settings(cls) -> LearnedNet:
        config = load_yaml(str(setting_path("safety_patterns")))["learned"]
        return cls(training_examples(config["sets"]), SafetyNet.from_settings(), float(config["threshold"]),
                   float(config["C"]), config.get("everyday"))

    def everyday_reply(self, text: str, intent: Optional[str], confidence: float) -> bool:
        """A short everyday reply the classifier is sure of (config/safety.yml learned.everyday): not read."""
        return (intent in self.everyday.get("intents", ()) and confidence >= self.everyday.get("min_confidence", 1.0)
                and len(text.split()) <= self.everyday.get("max_words", 0))

    def _features(self, normal: List[str]):  # noqa: ANN202 - a SciPy sparse matrix
        return hstack([self.words.transform(normal), self.chars.transform(normal)]).tocsr()

    def kind(self, text: str, normal: Optional[str] = None) -> Optional[str]:
        """medical or self_harm when the message reads like an emergency (probability >= threshold), else None.
        `normal`: the text as SafetyNet.normalise already made it."""
        normal = self.net.without_figures(self.net.normalise(text) if normal is None else normal)
        probabilities = self.model.predict_proba(self._features([normal]))[0]
        if 1.0 - probabilities[self.none] < self.threshold:
            return None
        ranked = sorted((p, k) for p, k in zip(probabilities, self.model.classes_, strict=True) if k != NONE)
        return ranked[-1][1]


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

