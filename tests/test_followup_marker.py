"""A message that only points back at the last answer goes to action_clarify (bot/rasa/followup_marker.py)."""

from __future__ import annotations

from typing import Any, Dict, Optional

import pytest
from rasa.shared.nlu.training_data.message import Message

from bot.core import pointing
from bot.rasa.followup_marker import PointingFollowup


@pytest.mark.parametrize("text", ["is that normal?", "both??", "so which one is she", "What do they ACTUALLY do in it",
                                  "how bad is that actually", "so both. huh", "is it normal tho"])
def test_pointers_and_function_words_only_have_no_subject(text: str) -> None:
    assert pointing.points_back(text, pointing.settings()) and pointing.no_subject(text, pointing.settings())


@pytest.mark.parametrize("text, subject", [("so what now", False), ("what can happen", False), ("and for me?", True),
                                           ("what do i do now", True), ("ok", True), ("how?", False), ("why??", False),
                                           ("no", True), ("thanks", True)])
def test_without_a_pointer_a_message_of_function_words_still_has_no_subject(text: str, subject: bool) -> None:
    assert pointing.no_subject(text, pointing.settings()) is not subject


@pytest.mark.parametrize("text", ["what should i say to him", "what about teenagers", "is that safe?",
                                  "and after that?", "how long does that take", "tell me more",
                                  "will her memory come back", "normal", "what is detox"])
def test_a_word_of_its_own_or_no_pointer_is_a_subject(text: str) -> None:
    follow = pointing.settings()
    assert not (pointing.points_back(text, follow) and pointing.no_subject(text, follow))


def parsed(text: str, intent: str, confidence: float = 0.8, safety: Optional[Dict[str, Any]] = None) -> Message:
    message = Message(data={"text": text})
    message.set("intent", {"name": intent, "confidence": confidence}, add_to_output=True)
    message.set("intent_ranking", [{"name": intent, "confidence": confidence},
                                   {"name": "ask_cbt", "confidence": 1 - confidence}], add_to_output=True)
    if safety:
        message.set("safety", safety, add_to_output=True)
    return message


@pytest.fixture(scope="module")
def marker() -> PointingFollowup:
    return PointingFollowup({})


def test_a_subjectless_follow_up_placed_on_a_topic_goes_to_the_context_resolver(marker: PointingFollowup) -> None:
    [message] = marker.process([parsed("both??", "ask_doctor_shopping")])
    assert message.get("intent")["name"] == "nlu_fallback"
    # "so what now" is about the last answer, not a request for the topic menu
    [menu] = marker.process([parsed("so what now", "ask_topics")])
    assert menu.get("intent")["name"] == "nlu_fallback"
    # "is that normal" placed on "is that safe?" asks about the answer, not about safety (dialogues38); "is that
    # safe" itself stays
    [normal] = marker.process([parsed("is that normal", "ask_followup_is_it_safe")])
    assert normal.get("intent")["name"] == "nlu_fallback"
    [safe] = marker.process([parsed("is that safe?", "ask_followup_is_it_safe")])
    assert safe.get("intent")["name"] == "ask_followup_is_it_safe"
    # the classifier's ranking stays, after the fallback, for the action and for staff
    assert [r["name"] for r in message.get("intent_ranking")] == ["nlu_fallback", "ask_doctor_shopping", "ask_cbt"]


@pytest.mark.parametrize("text, intent", [("so what should he do instead", "ask_anxiety_without_pills"),
                                          ("what do we do now", "ask_find_treatment"),
                                          ("what now?", "ask_topics"),
                                          ("is that him or the drug", "ask_what_are_benzodiazepines"),
                                          ("could the pills be causing that?", "ask_followup_is_it_safe"),
                                          # right after the CBT answer (dialogues3, 14, 16, 18, 26)
                                          ("does it actually work", "ask_is_recovery_possible"),
                                          ("and do they help?", "ask_support_groups")])
def test_asking_what_to_do_or_about_the_cause_goes_to_the_last_topic(
    marker: PointingFollowup, text: str, intent: str
) -> None:
    [message] = marker.process([parsed(text, intent)])
    assert message.get("intent")["name"] == "nlu_fallback"


@pytest.mark.parametrize("text, intent", [
    ("what should i say to him", "ask_how_to_talk_to_loved_one"),   # a subject of its own
    ("and after that?", "ask_next_step"),                           # a follow-up intent of its own
    ("is that normal?", "thank"),                                   # not an information topic
    ("what can you do", "ask_topics"),                              # the menu asked of the assistant
    ("does therapy actually work", "ask_is_recovery_possible"),      # names what it asks about
    ("and groups, would that help her", "ask_relapse_prevention"),   # the same (dialogues12)
    ("ok. and the CBT does it help with panic?", "ask_cbt"),
    ("if she wanted to come down how does that work", "ask_tapering"),   # how it works, not whether (dialogues22)
    ("and is it even worth it at 86", "ask_is_recovery_possible"),
    ("/ask_doctor_shopping", "ask_doctor_shopping"),                # a button
])
def test_other_messages_keep_their_intent(marker: PointingFollowup, text: str, intent: str) -> None:
    [message] = marker.process([parsed(text, intent)])
    assert message.get("intent")["name"] == intent


def test_a_message_the_safety_net_decided_is_left_alone(marker: PointingFollowup) -> None:
    decided = parsed("is that normal?", "ask_withdrawal_symptoms", safety={"outcome": "not_now"})
    [message] = marker.process([decided])
    assert message.get("intent")["name"] == "ask_withdrawal_symptoms"
