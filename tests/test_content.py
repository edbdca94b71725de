"""Every information answer is taken from the source paragraphs the topic contract names for it."""

from __future__ import annotations

import re

import pytest
import yaml

from bot.core.content import contract, coverage, information_intents, paragraphs_for, sentences
from tests.servers import ROOT

DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text())
RESPONSES = DOMAIN["responses"]
# Light edits allowed: a sentence may be shortened or joined, but at least this share of its word trigrams must
# occur in the named paragraphs. A sentence the source does not contain scores near 0.
MIN_COVERAGE = 0.6
SLOT = re.compile(r"\{(\w+)\}")


def variations(intent: str) -> list:
    return RESPONSES[f"utter_{intent}"]


@pytest.mark.parametrize("intent", information_intents())
def test_each_information_intent_has_its_answer(intent: str) -> None:
    assert f"utter_{intent}" in RESPONSES


@pytest.mark.parametrize("intent", information_intents())
def test_every_sentence_comes_from_the_named_source_paragraphs(intent: str) -> None:
    reference = " ".join(paragraphs_for(intent))
    for variation in variations(intent):
        text = SLOT.sub("loved one", variation["text"])
        found = sentences(text)
        assert 1 <= len(found) <= 5, f"{intent}: a chat bubble holds 2-4 sentences, found {len(found)}"
        for sentence in found:
            score = coverage(sentence, reference)
            where = contract()[intent]["source"]
            assert score >= MIN_COVERAGE, f"{intent}: not in paragraphs {where}: {sentence!r} ({score:.2f})"


@pytest.mark.parametrize("intent", information_intents())
def test_every_answer_offers_two_or_three_related_topics(intent: str) -> None:
    for variation in variations(intent):
        buttons = variation.get("buttons", [])
        assert 2 <= len(buttons) <= 3, intent
        for button in buttons:
            target = button["payload"].lstrip("/")
            assert target in contract() and target != intent


def test_the_check_rejects_an_invented_claim() -> None:
    reference = " ".join(paragraphs_for("ask_tapering"))
    assert coverage("Reduce the dose by ten percent every two weeks.", reference) < MIN_COVERAGE
    cold_turkey = " ".join(paragraphs_for("ask_quitting_cold_turkey"))
    assert coverage("Xanax is safe to stop after a month of use.", cold_turkey) < MIN_COVERAGE


def test_emergency_answers_lead_with_the_emergency_number() -> None:
    for variation in RESPONSES["utter_emergency_medical"]:
        assert variation["text"].lower().startswith("call 911 now")
        assert "1-800-222-1222" in variation["text"]
        assert "stay with" in variation["text"].lower()
    for variation in RESPONSES["utter_emergency_self_harm"]:
        assert "988" in variation["text"].split(".")[0]
        assert "911" in variation["text"]


def test_no_answer_gives_a_dose_or_schedule() -> None:
    dose = re.compile(
        r"\b\d+(\.\d+)?\s*(mg|milligrams?|%|percent|pills?|tablets?)\b|\bevery \d+ (days?|weeks?)\b", re.IGNORECASE
    )
    for name, variations_ in RESPONSES.items():
        for variation in variations_:
            assert not dose.search(variation.get("text", "")), name
