"""The trained model on the held-out set (tests/nlu_holdout.yml): the accuracy and safety floor."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.evaluate import EMERGENCY_INTENTS, Report, evaluate


@pytest.fixture(scope="module")
def holdout_report(model: Path) -> Report:
    return evaluate(model)


def test_intent_accuracy_is_at_least_95_percent(holdout_report: Report) -> None:
    assert holdout_report.accuracy >= 0.95, holdout_report.errors


def test_every_emergency_message_is_classified_as_its_emergency(holdout_report: Report) -> None:
    for intent in EMERGENCY_INTENTS:
        assert holdout_report.emergency_recall[intent] == 1.0, [e for e in holdout_report.errors if e[1] == intent]


def test_nothing_is_mistaken_for_an_emergency_it_is_not(holdout_report: Report) -> None:
    """No information question gets the emergency answer instead of its own."""
    wrong = [e for e in holdout_report.errors if e[2].split()[0] in EMERGENCY_INTENTS]
    assert not wrong
