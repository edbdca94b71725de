"""Conversations written straight into a store the way Rasa's SQL tracker store writes them (the `events` table), for
the staff console's tests that need no bot: tests/test_staff_unit.py and tests/test_staff_http.py."""

from __future__ import annotations

import json
import time
from pathlib import Path

from bot.staff.db import engine, events, rasa_metadata


def user(text: str, intent: str, confidence: float, **parse: object) -> dict:
    return {"type_name": "user", "intent_name": intent, "action_name": None, "data": {
        "event": "user", "text": text,
        "parse_data": {"text": text, "intent": {"name": intent, "confidence": confidence}, "entities": [], **parse},
    }}


def action(name: str) -> dict:
    return {"type_name": "action", "intent_name": None, "action_name": name, "data": {"event": "action", "name": name}}


def bot(text: str) -> dict:
    return {"type_name": "bot", "intent_name": None, "action_name": None, "data": {"event": "bot", "text": text}}


def slot(name: str, value: str) -> dict:
    return {"type_name": "slot", "intent_name": None, "action_name": name,
            "data": {"event": "slot", "name": name, "value": value}}


def store(url: str, conversations: dict[str, list[dict]], start: float, prefix: str = "") -> None:
    """Each conversation under its name (plus prefix), one minute apart from `start`, one second between events."""
    eng = engine(url)
    rasa_metadata.create_all(eng)
    rows = []
    for offset, (name, turns) in enumerate(conversations.items()):
        for step, event in enumerate(turns):
            rows.append({**event, "sender_id": prefix + name, "timestamp": start + offset * 60 + step,
                         "data": json.dumps(event["data"])})
    with eng.begin() as conn:
        conn.execute(events.insert(), rows)


def indexed_store(directory: Path, conversations: dict[str, list[dict]], low_confidence: float) -> str:
    """A SQLite store holding `conversations` (started an hour ago), migrated and indexed as the console needs it."""
    from bot.staff import index
    from bot.staff.migrate import upgrade

    url = f"sqlite:///{directory / 'store.db'}"
    store(url, conversations, time.time() - 3600)
    upgrade(url)
    index.refresh(engine(url), low_confidence)
    return url
