"""Whole family conversations (tests/dialogues.yml, written independently) end to end over HTTP.

`make eval` reports the turn accuracy against the issue's target; this test holds what must never happen - an
information turn answered with "Call 911 now" or the 988 answer, an emergency turn without 911 / 988 - and keeps
accuracy from sliding back below where it stood when the set was first run (68%, before any tuning).
"""

from __future__ import annotations

from typing import List

import pytest

from tests.servers import Service, say
from tools.dialogues import Turn, run, summary

EMERGENCY_KEYS = {"emergency_medical", "emergency_self_harm", "emergency_both", "asked"}


@pytest.fixture(scope="module")
def turns(rasa_server: Service) -> List[Turn]:
    return run(lambda sender, text: say(rasa_server.url, sender, text))


def test_no_information_turn_gets_an_emergency_answer(turns: List[Turn]) -> None:
    wrong = [t.text for t in turns if t.key in EMERGENCY_KEYS and not {"emergency_medical", "emergency_self_harm"}
             & set(t.expected)]
    assert not wrong


def test_every_emergency_turn_gets_911_or_988_first(turns: List[Turn]) -> None:
    missed = [t.text for t in turns if {"emergency_medical", "emergency_self_harm"} & set(t.expected)
              and t.key not in EMERGENCY_KEYS]
    assert not missed


def test_turn_accuracy_does_not_slide_back(turns: List[Turn]) -> None:
    figures = summary(turns)
    assert figures["turns"] >= 100
    assert figures["turn_accuracy"] >= 0.68, [(t.text, t.expected, t.key) for t in turns if not t.right]
