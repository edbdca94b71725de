"""NLU evaluation on the held-out set (tests/nlu_holdout.yml).

    python -m bot.evaluate                       # the trained model: the report of `make eval`
    python -m bot.evaluate --compare DIR         # train and evaluate every candidate config in DIR

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
from typing import Dict, List, Optional, Tuple

from bot import rasa_patches
from bot.settings import PROJECT_ROOT
from bot.training import train

HOLDOUT = PROJECT_ROOT / "tests" / "nlu_holdout.yml"
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


@rasa_patches.patched()  # the code the Rasa server runs (config/patches.yml), undone afterwards
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
            raw = next((r for r in parsed.get("intent_ranking") or [] if r.get("name") != FALLBACK), intent)
            out.append(
                Prediction(
                    text, expected, intent.get("name") or "", intent.get("confidence") or 0.0, seconds,
                    raw.get("name") or "", raw.get("confidence") or 0.0,
                )
            )
        return out

    return asyncio.run(run())


def report(model: Path, predictions: List[Prediction], training_seconds: Optional[float]) -> Report:
    from sklearn.metrics import f1_score

    n = len(predictions)
    correct = [p for p in predictions if p.predicted == p.expected]
    wrong = [p for p in predictions if p.predicted != p.expected]
    labels = sorted({p.expected for p in predictions})
    macro_f1 = f1_score(
        [p.expected for p in predictions], [p.predicted for p in predictions], labels=labels, average="macro",
        zero_division=0,
    )
    recall = {}
    for intent in EMERGENCY_INTENTS:
        cases = [p for p in predictions if p.expected == intent]
        if cases:
            recall[intent] = sum(p.predicted == intent for p in cases) / len(cases)
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
        right = sum(p.raw_intent == p.expected for p in above)
        table[threshold] = (right / n, 1 - len(above) / n, (len(above) - right) / n)
    return table


def training_seconds(model: Path) -> Optional[float]:
    record = model.with_suffix("").with_suffix(".train.json")
    return json.loads(record.read_text())["seconds"] if record.exists() else None


def evaluate(model: Path = MODEL) -> Report:
    return report(model, predict(model, holdout_examples()), training_seconds(model))


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
    args = parser.parse_args()
    if args.compare:
        compare(args.compare)
        return
    r = evaluate(args.model)
    print_report(r, args.verbose)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(asdict(r), indent=2))


if __name__ == "__main__":
    main()
