"""Redaction of personal data: bot/core/privacy.py, the redacting tracker store, and the real bot's stored events."""

from __future__ import annotations

import sqlite3

import pytest
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered

from bot.core.privacy import redact, redact_all
from bot.rasa.tracker_store import redacted
from tests.staff_fixtures import (  # noqa: F401
    EMAIL_TYPED,
    PHONE_DIGITS,
    PHONE_TYPED,
    STREET_TYPED,
    staff_conversations,
    staff_rasa,
)


@pytest.mark.parametrize(("text", "expected"), [
    ("call me at 555-867-5309", "call me at [phone]"),
    ("(555) 867-5309 after six", "[phone] after six"),
    ("+1 555 867 5309", "[phone]"),
    ("my number is 5558675309.", "my number is [phone]."),
    ("+44 20 7946 0958", "[phone]"),
    ("mail jane.doe+family@example.co.uk today", "mail [email] today"),
    ("we live at 42 Elm Street, Apt 4B", "we live at [address]"),
    ("1600 Pennsylvania Avenue", "[address]"),
    ("write to PO Box 1234", "write to [address]"),
    ("he lives at 7 oak rd now", "he lives at [address] now"),
])
def test_personal_data_is_redacted(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize("text", [
    "she took 2 pills on the way home",
    "he takes 3 mg every day",
    "0.5 mg twice a day for 10 years",
    "call 911 or text 988",
    "it started on 2024-01-15",
    "my son is 23",
    "what are benzodiazepines?",
])
def test_ordinary_messages_are_left_alone(text: str) -> None:
    assert redact(text) == text


def test_redact_all_walks_nested_values() -> None:
    value = {"text": "555-867-5309", "entities": [{"value": "a@b.org", "start": 0}], "confidence": 0.5}
    assert redact_all(value) == {"text": "[phone]", "entities": [{"value": "[email]", "start": 0}], "confidence": 0.5}


def test_the_tracker_store_redacts_user_events_and_slots_but_not_the_original() -> None:
    text = f"call {PHONE_TYPED} or {EMAIL_TYPED}"
    parse = {"intent": {"name": "request_human", "confidence": 0.9}, "text": text,
             "entities": [{"entity": "loved_one", "value": EMAIL_TYPED}], "safety": {"phrase": PHONE_TYPED}}
    event = UserUttered(text, parse["intent"], parse["entities"], parse, metadata={"note": EMAIL_TYPED})
    stored = redacted(event).as_dict()
    assert PHONE_TYPED not in str(stored) and EMAIL_TYPED not in str(stored)
    assert stored["text"] == "call [phone] or [email]"
    assert stored["parse_data"]["intent"] == {"name": "request_human", "confidence": 0.9}
    assert event.text == text  # the NLU and policies keep the original for the turn
    assert PHONE_TYPED not in str(redacted(SlotSet("loved_one", PHONE_TYPED)).as_dict())
    bot = BotUttered("Poison Help is 1-800-222-1222")
    assert redacted(bot) is bot  # the bot's own helpline numbers are kept
    action = ActionExecuted("utter_greet")
    assert redacted(action) is action


@pytest.mark.servers
def test_stored_conversations_hold_no_typed_phone_number_or_email(
    staff_rasa, staff_conversations: dict[str, str]  # noqa: F811
) -> None:
    with sqlite3.connect(staff_rasa.db_path) as db:
        rows = db.execute("select data from events where sender_id = ?", (staff_conversations["personal_data"],))
        stored = "\n".join(row[0] for row in rows)
        everything = "\n".join(row[0] for row in db.execute("select data from events"))
    assert "[phone]" in stored and "[email]" in stored and "[address]" in stored
    for typed in (PHONE_TYPED, PHONE_DIGITS, EMAIL_TYPED, STREET_TYPED):
        assert typed not in everything
