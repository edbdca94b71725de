"""`make eval`: the hold-out set, the blind set, cross-validation, the crisis sets and the dialogues, side by side.

    python -m tools.evaluate                     # the trained model: the report of `make eval`
    python -m tools.evaluate --compare DIR       # train and evaluate every candidate config in DIR

Reports intent accuracy, macro F1, fallback rate, confidently-wrong rate (a wrong intent above the fallback
threshold), emergency recall, parse latency, training time and the five most confused pairs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from bot.core.settings import PROJECT_ROOT
from bot.rasa import patches
from tools.training import train

HOLDOUT = PROJECT_ROOT / "tests" / "nlu_holdout.yml"
BLIND = PROJECT_ROOT / "tests" / "nlu_blind.yml"
BLIND2 = PROJECT_ROOT / "tests" / "nlu_blind2.yml"   # the second blind set, written after the first was used
BLIND3 = PROJECT_ROOT / "tests" / "nlu_blind3.yml"   # the third, written before the third round of data changes
BLIND4 = PROJECT_ROOT / "tests" / "nlu_blind4.yml"   # the fourth, written before the fourth round
BLIND5 = PROJECT_ROOT / "tests" / "nlu_blind5.yml"   # the fifth, measured after the training data's rounds 1-4
BLIND6 = PROJECT_ROOT / "tests" / "nlu_blind6.yml"   # the sixth, first run on the model of stop 11
BLIND7 = PROJECT_ROOT / "tests" / "nlu_blind7.yml"   # the seventh, first run with the LinearSVC (stop 12)
BLIND8 = PROJECT_ROOT / "tests" / "nlu_blind8.yml"   # the eighth, first run after training data round 6 (stop 12)
BLIND9 = PROJECT_ROOT / "tests" / "nlu_blind9.yml"   # the ninth, first run after training data round 7 (stop 13)
BLIND10 = PROJECT_ROOT / "tests" / "nlu_blind10.yml"   # the tenth, first run after stop 14's follow-up changes
BLIND11 = PROJECT_ROOT / "tests" / "nlu_blind11.yml"   # the eleventh, first run after stop 15's data round 10
BLIND12 = PROJECT_ROOT / "tests" / "nlu_blind12.yml"   # the twelfth, first run with the sentence encoder (stop 16)
BLIND13 = PROJECT_ROOT / "tests" / "nlu_blind13.yml"   # the thirteenth, first run on stop 16's final system
BLIND14 = PROJECT_ROOT / "tests" / "nlu_blind14.yml"   # the fourteenth, first run on stop 17's start (stop 16's system)
BLIND15 = PROJECT_ROOT / "tests" / "nlu_blind15.yml"   # the fifteenth, first run on stop 17's final system
BLIND16 = PROJECT_ROOT / "tests" / "nlu_blind16.yml"   # the sixteenth, first run on stop 18's system
BLIND17 = PROJECT_ROOT / "tests" / "nlu_blind17.yml"   # the seventeenth, first run after stop 19's data round
BLIND18 = PROJECT_ROOT / "tests" / "nlu_blind18.yml"   # the eighteenth, first run on stop 19's final system
BLIND19 = PROJECT_ROOT / "tests" / "nlu_blind19.yml"   # the nineteenth, first run at stop 20's start (stop 19's system)
BLIND20 = PROJECT_ROOT / "tests" / "nlu_blind20.yml"   # the twentieth, first run at stop 21's start (stop 20's system)
BLIND21 = PROJECT_ROOT / "tests" / "nlu_blind21.yml"   # the twenty-first, first run after stop 21's data round
BLIND22 = PROJECT_ROOT / "tests" / "nlu_blind22.yml"   # the twenty-second, first run after stop 21's data round 22
BLIND23 = PROJECT_ROOT / "tests" / "nlu_blind23.yml"   # the twenty-third, first run on stop 21's final system
BLIND24 = PROJECT_ROOT / "tests" / "nlu_blind24.yml"   # the twenty-fourth, first run at stop 22's start
BLIND25 = PROJECT_ROOT / "tests" / "nlu_blind25.yml"   # the twenty-fifth, first run on stop 22's final system
BLIND26 = PROJECT_ROOT / "tests" / "nlu_blind26.yml"   # the twenty-sixth, first run at stop 23's start
BLIND27 = PROJECT_ROOT / "tests" / "nlu_blind27.yml"   # the twenty-seventh, first run on stop 23's final system
BLIND28 = PROJECT_ROOT / "tests" / "nlu_blind28.yml"   # the twenty-eighth, first run at stop 24's start
BLIND29 = PROJECT_ROOT / "tests" / "nlu_blind29.yml"   # the twenty-ninth, first run on stop 24's system before its
# last round
BLIND30 = PROJECT_ROOT / "tests" / "nlu_blind30.yml"   # the thirtieth, first run on stop 24's system before its last
# round
BLIND31 = PROJECT_ROOT / "tests" / "nlu_blind31.yml"   # the thirty-first, first run on stop 24's final system
BLIND32 = PROJECT_ROOT / "tests" / "nlu_blind32.yml"   # the thirty-second, first run on stop 25's starting system
BLIND33 = PROJECT_ROOT / "tests" / "nlu_blind33.yml"   # the thirty-third, first run on stop 25's starting system
BLIND34 = PROJECT_ROOT / "tests" / "nlu_blind34.yml"   # the thirty-fourth, first run after stop 25's data round 32
BLIND35 = PROJECT_ROOT / "tests" / "nlu_blind35.yml"   # the thirty-fifth, first run after stop 25's data round 33
BLIND36 = PROJECT_ROOT / "tests" / "nlu_blind36.yml"   # the thirty-sixth, first run after stop 25's data round 34
BLIND37 = PROJECT_ROOT / "tests" / "nlu_blind37.yml"   # the thirty-seventh, first run on stop 25's final system
BLIND_SETS = (("blind", "blind set", BLIND), ("blind2", "second blind set", BLIND2),
              ("blind3", "third blind set", BLIND3), ("blind4", "fourth blind set", BLIND4),
              ("blind5", "fifth blind set", BLIND5), ("blind6", "sixth blind set", BLIND6),
              ("blind7", "seventh blind set", BLIND7), ("blind8", "eighth blind set", BLIND8),
              ("blind9", "ninth blind set", BLIND9), ("blind10", "tenth blind set", BLIND10),
              ("blind11", "eleventh blind set", BLIND11), ("blind12", "twelfth blind set", BLIND12),
              ("blind13", "thirteenth blind set", BLIND13), ("blind14", "fourteenth blind set", BLIND14),
              ("blind15", "fifteenth blind set", BLIND15), ("blind16", "sixteenth blind set", BLIND16),
              ("blind17", "seventeenth blind set", BLIND17), ("blind18", "eighteenth blind set", BLIND18),
              ("blind19", "nineteenth blind set", BLIND19), ("blind20", "twentieth blind set", BLIND20),
              ("blind21", "twenty-first blind set", BLIND21), ("blind22", "twenty-second blind set", BLIND22),
              ("blind23", "twenty-third blind set", BLIND23), ("blind24", "twenty-fourth blind set", BLIND24),
              ("blind25", "twenty-fifth blind set", BLIND25), ("blind26", "twenty-sixth blind set", BLIND26),
              ("blind27", "twenty-seventh blind set", BLIND27),
              ("blind28", "twenty-eighth blind set", BLIND28), ("blind29", "twenty-ninth blind set", BLIND29),
              ("blind30", "thirtieth blind set", BLIND30), ("blind31", "thirty-first blind set", BLIND31),
              ("blind32", "thirty-second blind set", BLIND32), ("blind33", "thirty-third blind set", BLIND33),
              ("blind34", "thirty-fourth blind set", BLIND34),
              ("blind35", "thirty-fifth blind set", BLIND35),
              ("blind36", "thirty-sixth blind set", BLIND36),
              ("blind37", "thirty-seventh blind set", BLIND37))
# tuning set first; the blind ones in the order they were written (each evaluated before any change it caused)
# dialogues49 was lost with a machine before it landed (stop 24)
DIALOGUE_SETS = tuple(f"tests/dialogues{n}.yml" for n in ("", *range(2, 49), *range(50, 62)))
# crisis_blind43 was asked for at stop 17 and never written; 44 - 45 are stop 18's, 46 - 50 stop 19's, 51 - 53 stop
# 20's, 54 - 58 stop 21's, 59 - 61 stop 22's, 62 - 65 stop 23's, 66 - 69 stop 24's, 70 - 75 stop 25's
CRISIS_SETS = ("crisis_cases",) + tuple(f"crisis_blind{n}" for n in ("", *range(2, 43), *range(44, 76)))
MODEL = PROJECT_ROOT / "models" / "benzo-family.tar.gz"
EMERGENCY_INTENTS = ("emergency_medical", "emergency_self_harm")
FALLBACK = "nlu_fallback"


@dataclass
class Prediction:
    text: str
    expected: str
    predicted: str
    confidence: float
    seconds: float
    raw_intent: str  # the classifier's top intent before the FallbackClassifier
    raw_confidence: float
    second_confidence: float = 0.0  # the runner-up's, for the ambiguity threshold


@dataclass
class Report:
    model: str
    examples: int
    accuracy: float
    macro_f1: float
    fallback_rate: float
    confidently_wrong_rate: float
    emergency_recall: Dict[str, float]
    parse_ms_mean: float
    parse_ms_p95: float
    training_seconds: Optional[float]
    confused_pairs: List[Tuple[str, str, int]] = field(default_factory=list)
    # threshold -> (accuracy, fallback rate, confidently-wrong rate) had the fallback threshold been that value
    threshold_sweep: Dict[float, Tuple[float, float, float]] = field(default_factory=dict)
    errors: List[Tuple[str, str, str]] = field(default_factory=list)


def holdout_examples(path: Path = HOLDOUT) -> List[Tuple[str, str]]:
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(path))
    return [(m.get("text"), m.get("intent")) for m in data.intent_examples]


def quiet_logs() -> None:
    """Rasa logs parsed messages at debug level; keep them (and their text) out of the output."""
    import logging

    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)
    logging.getLogger("rasa").setLevel(logging.WARNING)


@patches.patched()  # the code the Rasa server runs (config/patches.yml), undone afterwards
def predict(model: Path, examples: List[Tuple[str, str]]) -> List[Prediction]:
    from rasa.core.agent import Agent

    quiet_logs()
    agent = Agent.load(str(model))

    async def run() -> List[Prediction]:
        out = []
        for text, expected in examples:
            start = time.perf_counter()
            parsed = await agent.parse_message(text)
            seconds = time.perf_counter() - start
            intent = parsed.get("intent") or {}
            ranking = [r for r in parsed.get("intent_ranking") or [] if r.get("name") != FALLBACK] or [intent]
            raw = ranking[0]
            out.append(
                Prediction(
                    text, expected, intent.get("name") or "", intent.get("confidence") or 0.0, seconds,
                    raw.get("name") or "", raw.get("confidence") or 0.0,
                    ranking[1].get("confidence", 0.0) if len(ranking) > 1 else 0.0,
                )
            )
        return out

    return asyncio.run(run())


def report(model: Path, predictions: List[Prediction], training_seconds: Optional[float]) -> Report:
    from sklearn.metrics import f1_score

    n = len(predictions)
    correct = [p for p in predictions if right(p.predicted, p.expected)]
    wrong = [p for p in predictions if not right(p.predicted, p.expected)]
    labels = sorted({p.expected for p in predictions})
    macro_f1 = f1_score(
        [p.expected for p in predictions], [p.predicted for p in predictions], labels=labels, average="macro",
        zero_division=0,
    )
    recall = {}
    for intent in EMERGENCY_INTENTS:
        cases = [p for p in predictions if p.expected == intent]
        if cases:
            recall[intent] = sum(right(p.predicted, intent) for p in cases) / len(cases)
    latencies = sorted(p.seconds * 1000 for p in predictions)
    pairs = Counter((p.expected, p.predicted) for p in wrong)
    return Report(
        model=str(model),
        examples=n,
        accuracy=len(correct) / n,
        macro_f1=float(macro_f1),
        fallback_rate=sum(p.predicted == FALLBACK for p in predictions) / n,
        confidently_wrong_rate=sum(p.predicted != FALLBACK for p in wrong) / n,
        emergency_recall=recall,
        parse_ms_mean=statistics.mean(latencies),
        parse_ms_p95=latencies[int(0.95 * (n - 1))],
        training_seconds=training_seconds,
        confused_pairs=[(a, b, c) for (a, b), c in pairs.most_common(5)],
        threshold_sweep=sweep(predictions),
        errors=[(p.text, p.expected, f"{p.predicted} {p.confidence:.2f}") for p in wrong],
    )


def sweep(predictions: List[Prediction]) -> Dict[float, Tuple[float, float, float]]:
    """What accuracy, fallback and confidently-wrong rates each fallback threshold would give."""
    n = len(predictions)
    table = {}
    for threshold in (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7):
        above = [p for p in predictions if p.raw_confidence >= threshold or p.raw_intent in EMERGENCY_INTENTS]
        right_ = sum(right(p.raw_intent, p.expected) for p in above)
        table[threshold] = (right_ / n, 1 - len(above) / n, (len(above) - right_) / n)
    return table


def right(predicted: str, expected: str) -> bool:
    """An emergency is right when the safety net answered it as one (any emergency form) or asked about it."""
    if expected == "not_covered":  # the blind sets' name for an in-field question the source can't answer
        expected = "ask_not_covered"
    if expected in EMERGENCY_INTENTS:
        return predicted.startswith("emergency_") or predicted.startswith("safety_check_")
    return predicted == expected


def cross_validation(folds: int = 5, config: Path = PROJECT_ROOT / "config.yml") -> List[Prediction]:
    """Predictions for every training example by a model trained on the other folds (stratified by intent,
    seeded), so thresholds are tuned on data the model did not see, never on the hold-out or blind sets."""
    import random

    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLWriter
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(PROJECT_ROOT / "data" / "nlu.yml"))
    by_intent: Dict[str, List] = {}
    for example in data.intent_examples:
        by_intent.setdefault(example.get("intent"), []).append(example)
    fold_of = {}
    rng = random.Random(42)
    for examples in by_intent.values():
        rng.shuffle(examples)
        for i, example in enumerate(examples):
            fold_of[id(example)] = i % folds
    out = PROJECT_ROOT / "results" / "cv"
    out.mkdir(parents=True, exist_ok=True)
    predictions: List[Prediction] = []
    for fold in range(folds):
        train_part = data.filter_training_examples(lambda e, k=fold: fold_of.get(id(e), -1) != k)
        held = [(e.get("text"), e.get("intent")) for e in data.intent_examples if fold_of[id(e)] == fold]
        nlu_file = out / f"fold-{fold}.yml"
        nlu_file.write_text(RasaYAMLWriter().dumps(train_part))
        model, _ = train(config, out, f"fold-{fold}", nlu_only=True, nlu=str(nlu_file))
        predictions += predict(model, held)
        print(f"cross-validation fold {fold + 1}/{folds}: {len(held)} messages", flush=True)
    return predictions


def threshold_grid(predictions: List[Prediction]) -> List[Tuple[float, float, float, float, float]]:
    """(threshold, ambiguity, accuracy, asked-back rate, confidently wrong) for each pair of FallbackClassifier
    settings: a message is answered when its top intent reaches the threshold and leads the runner-up by the
    ambiguity margin; otherwise the assistant asks ("Did you mean ...?")."""
    n = len(predictions)
    rows = []
    for threshold in (0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6):
        for ambiguity in (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5):
            answered = [
                p for p in predictions
                if p.raw_intent in EMERGENCY_INTENTS
                or (p.raw_confidence >= threshold and p.raw_confidence - p.second_confidence >= ambiguity)
            ]
            good = sum(right(p.raw_intent, p.expected) for p in answered)
            rows.append((threshold, ambiguity, good / n, 1 - len(answered) / n, (len(answered) - good) / n))
    return rows


def best_thresholds(rows: List[Tuple[float, float, float, float, float]], max_wrong: float = 0.01) -> Tuple:
    """The most accurate setting whose confidently-wrong rate stays under max_wrong; when none does, the one with
    the best accuracy minus twice the confidently-wrong rate: a wrong answer costs a family more than a "Did you
    mean ...?" with the right topic among its buttons."""
    within = [r for r in rows if r[4] <= max_wrong]
    if within:
        return max(within, key=lambda r: (r[2], -r[3]))
    return max(rows, key=lambda r: (round(r[2] - 2 * r[4], 3), -r[3]))


def training_seconds(model: Path) -> Optional[float]:
    record = model.with_suffix("").with_suffix(".train.json")
    return json.loads(record.read_text())["seconds"] if record.exists() else None


def evaluate(model: Path = MODEL, path: Path = HOLDOUT) -> Report:
    return report(model, predict(model, holdout_examples(path)), training_seconds(model))


def crisis_report(model: Path, paths: List[Path]) -> List[Tuple[str, Dict[str, float]]]:
    """Each crisis set through the whole NLU pipeline: how many emergencies got the emergency answer or the
    "is this happening now?" question (both carry 911 / 988) in the first reply; with 988 first when self-harm was
    involved (the self-harm, both or asked answer; the medical answer names 988 too, after 911); in Spanish when the
    message was Spanish; how many non-emergencies got either."""
    import yaml
    from rasa.core.agent import Agent

    quiet_logs()
    agent = Agent.load(str(model))
    rows = []
    for path in paths:
        cases = yaml.safe_load(path.read_text())["cases"]
        count: Counter = Counter()
        for case in cases:
            name = asyncio.run(agent.parse_message(case["text"]))["intent"]["name"]
            now, asked = name.startswith("emergency_"), name.startswith("safety_check_")
            if case["expect"] == "not_emergency":
                count["others"] += 1
                count["false_alarm"] += now
                count["asked_others"] += asked
                continue
            count["emergencies"] += 1
            count["caught"] += now or asked
            count["asked_emergencies"] += asked
            if case["expect"] in ("emergency_self_harm", "emergency_both"):
                count["self_harm"] += 1
                count["self_harm_with_988"] += asked or "self_harm" in name or "both" in name
            if case["lang"] == "es":
                count["spanish"] += 1
                count["spanish_in_spanish"] += (now or asked) and name.endswith("_es")  # the question too
        rows.append((path.name, {
            "emergencies": count["emergencies"],
            "recall": count["caught"] / count["emergencies"],
            "asked_emergencies": count["asked_emergencies"] / count["emergencies"],
            "self_harm_with_988": count["self_harm_with_988"] / max(count["self_harm"], 1),
            "spanish_in_spanish": count["spanish_in_spanish"] / max(count["spanish"], 1),
            "others": count["others"],
            "false_alarm_rate": count["false_alarm"] / count["others"],
            "asked_rate": count["asked_others"] / count["others"],
        }))
    return rows


def dialogue_report(paths: Sequence[str] = DIALOGUE_SETS, verbose: bool = False) -> Dict[str, Dict[str, float]]:
    """Each dialogue set end to end over HTTP: an action server and a Rasa server on a scratch SQLite file."""
    import tempfile

    import requests

    from bot.processes import action_service, free_port, rasa_service
    from tools.dialogues import run, summary

    work = Path(tempfile.mkdtemp(prefix="dialogues-"))
    actions = action_service(free_port(), work / "actions.log").start()
    endpoints = work / "endpoints.yml"
    endpoints.write_text(
        f"action_endpoint:\n  url: {actions.url}/webhook\n  enable_selective_domain: true\n"
        f"tracker_store:\n  type: bot.rasa.tracker_store.RedactingSQLTrackerStore\n  dialect: sqlite\n"
        f"  db: {work / 'conversations.db'}\nnlg:\n  type: bot.rasa.nlg.SafetyNoteNLG\n"
    )
    rasa = rasa_service(free_port(), endpoints, work / "rasa.log").start()

    def say(sender: str, text: str) -> List[dict]:
        body = {"sender": sender, "message": text}
        return requests.post(f"{rasa.url}/webhooks/rest/webhook", json=body, timeout=60).json()

    try:
        results = {}
        for path in paths:
            turns = run(say, path)
            if verbose:
                for turn in turns:
                    if not turn.right:
                        print(f"  [{turn.dialogue}] {turn.text!r}: expected {turn.expected}, got {turn.key}")
            results[path] = summary(turns)
        return results
    finally:
        rasa.stop()
        actions.stop()


def print_report(r: Report, verbose: bool = False) -> None:
    print(f"model: {r.model}")
    print(f"held-out examples:      {r.examples}")
    print(f"intent accuracy:        {r.accuracy:.1%}")
    print(f"macro F1:               {r.macro_f1:.3f}")
    print(f"fallback rate:          {r.fallback_rate:.1%}")
    print(f"confidently wrong:      {r.confidently_wrong_rate:.1%}")
    for intent, value in r.emergency_recall.items():
        print(f"recall {intent + ':':<21} {value:.1%}")
    print(f"parse latency:          mean {r.parse_ms_mean:.1f} ms, p95 {r.parse_ms_p95:.1f} ms")
    if r.training_seconds is not None:
        print(f"training time:          {r.training_seconds:.0f} s")
    print("most confused pairs (expected -> predicted, count):")
    for expected, predicted, count in r.confused_pairs:
        print(f"  {expected} -> {predicted}: {count}")
    print("fallback threshold sweep (accuracy / fallback rate / confidently wrong):")
    for threshold, (accuracy, fallback, wrong) in r.threshold_sweep.items():
        print(f"  {threshold:.1f}: {accuracy:.1%} / {fallback:.1%} / {wrong:.1%}")
    if verbose:
        print("errors:")
        for text, expected, predicted in r.errors:
            print(f"  [{expected}] -> [{predicted}] {text}")


def compare(directory: Path) -> None:
    out = PROJECT_ROOT / "results" / "compare"
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for config in sorted(directory.glob("*.yml")):
        model, seconds = train(config, out, config.stem, nlu_only=True)
        r = report(model, predict(model, holdout_examples()), seconds)
        print_report(r)
        print()
        rows.append((config.stem, r))
    lines = [
        "| config | accuracy | macro F1 | fallback | confidently wrong | emergency recall | parse p95 | training |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, r in rows:
        recall = min(r.emergency_recall.values()) if r.emergency_recall else 0
        lines.append(
            f"| {name} | {r.accuracy:.1%} | {r.macro_f1:.3f} | {r.fallback_rate:.1%} | {r.confidently_wrong_rate:.1%}"
            f" | {recall:.0%} | {r.parse_ms_p95:.1f} ms | {r.training_seconds:.0f} s |"
        )
    table = "\n".join(lines)
    (out / "compare.md").write_text(table + "\n")
    print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=MODEL)
    parser.add_argument("--compare", type=Path, help="a directory of candidate config files")
    parser.add_argument("--verbose", action="store_true", help="list every misclassified message")
    parser.add_argument("--json", type=Path, help="also write the report as JSON")
    parser.add_argument("--cv", type=int, default=5, help="cross-validation folds (0: skip)")
    parser.add_argument("--only", choices=["holdout", "blind", "cv", "crisis", "dialogues"], action="append")
    args = parser.parse_args()
    if args.compare:
        compare(args.compare)
        return
    wanted = set(args.only or ["holdout", "blind", "cv", "crisis", "dialogues"])
    results: Dict[str, object] = {}
    if "holdout" in wanted:
        print("== hold-out set (tests/nlu_holdout.yml: written with the training data; the old headline) ==")
        r = evaluate(args.model)
        print_report(r, args.verbose)
        results["holdout"] = asdict(r)
    if "blind" in wanted:
        for key, title, path in BLIND_SETS:
            print(f"\n== {title} ({path.relative_to(PROJECT_ROOT)}: written independently, only evaluated) ==")
            r = evaluate(args.model, path)
            print_report(r, args.verbose)
            results[key] = asdict(r)
    if "cv" in wanted and args.cv:
        print(f"\n== {args.cv}-fold cross-validation on data/nlu.yml (thresholds are tuned here) ==")
        cv = cross_validation(args.cv)
        (PROJECT_ROOT / "results").mkdir(exist_ok=True)
        (PROJECT_ROOT / "results" / "cv-predictions.json").write_text(json.dumps([asdict(p) for p in cv]))
        r = report(args.model, cv, None)
        print_report(r, args.verbose)
        grid = threshold_grid(cv)
        print("FallbackClassifier settings (threshold, ambiguity): accuracy / asked back / confidently wrong"
              + ("" if args.verbose else " (for each threshold, the ambiguity with the best accuracy - 2 x wrong)"))
        for threshold, ambiguity, accuracy, asked, wrong in grid:
            if args.verbose or (threshold, ambiguity) == best_thresholds(
                    [r for r in grid if r[0] == threshold])[:2]:
                print(f"  {threshold:.2f}, {ambiguity:.2f}: {accuracy:.1%} / {asked:.1%} / {wrong:.1%}")
        best = best_thresholds(grid)
        print(f"chosen (confidently wrong <= 1%, else accuracy - 2 x confidently wrong): threshold {best[0]}, "
              f"ambiguity {best[1]} "
              f"({best[2]:.1%} / {best[3]:.1%} / {best[4]:.1%})")
        results["cross_validation"] = {"report": asdict(r), "best": best}
    if "crisis" in wanted:
        print("\n== crisis sets (first reply: emergency answer or 'is this happening now?', both with 911/988) ==")
        paths = [PROJECT_ROOT / "tests" / f"{name}.yml" for name in CRISIS_SETS]
        for name, row in crisis_report(args.model, paths):
            print(f"{name}: {row['emergencies']} emergencies, recall {row['recall']:.1%} "
                  f"(asked {row['asked_emergencies']:.1%}), self-harm with 988 first {row['self_harm_with_988']:.1%}, "
                  f"Spanish answered in Spanish {row['spanish_in_spanish']:.1%}; {row['others']} non-emergencies, "
                  f"emergency answer first {row['false_alarm_rate']:.1%}, asked {row['asked_rate']:.1%}")
            results[f"crisis:{name}"] = row
    if "dialogues" in wanted:
        print("\n== dialogues (whole conversations over HTTP, written independently) ==")
        for path, d in dialogue_report(verbose=args.verbose).items():
            print(f"{path}: {d['turns']} turns: turn accuracy {d['turn_accuracy']:.1%}, asked to clarify "
                  f"{d['asked_to_clarify']:.1%}, information turns answered as an emergency "
                  f"{d['information_turns_answered_as_emergency']}, asked 'is this happening now?' "
                  f"{d['information_turns_asked_if_happening_now']}")
            results[f"dialogues:{path}"] = d
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
