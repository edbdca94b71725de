"""The tracker store's cache of conversations between turns (bot/rasa/tracker_store.py, `cached_conversations`):
a kept tracker is used only while the database holds exactly what this store wrote for it; anything else (another
server's turn, a deletion, redaction, a new session, a turn that failed before its write) reads the database."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Iterator, List, Optional

import pytest
import sqlalchemy as sa
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.rasa.tracker_store import RedactingSQLTrackerStore

WAL = {"value": False}


def make_store(path: Path, cached: int = 5) -> RedactingSQLTrackerStore:
    return RedactingSQLTrackerStore(domain=Domain.empty(), dialect="sqlite", db=str(path), cached_conversations=cached,
                                    sqlite_wal=WAL["value"])


@pytest.fixture(params=[False, True], ids=["rollback-journal", "write-ahead-log"])
def db(tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test on SQLite as Rasa opens it and as endpoints.yml does (sqlite_wal: true)."""
    monkeypatch.setitem(WAL, "value", request.param)
    return tmp_path / "conversations.db"


@pytest.fixture
def store(db: Path) -> Iterator[RedactingSQLTrackerStore]:
    store = make_store(db)
    yield store
    store.engine.dispose()


def test_sqlite_as_configured(store: RedactingSQLTrackerStore) -> None:
    take_turn(store, "first")
    with store.engine.connect() as connection:
        mode = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
        synchronous = connection.exec_driver_sql("PRAGMA synchronous").scalar()
    assert (mode, synchronous) == (("wal", 1) if WAL["value"] else ("delete", 2))  # 1: NORMAL, 2: FULL


def turn(text: str) -> List[Event]:
    return [UserUttered(text), ActionExecuted("utter_answer"), BotUttered(f"answer to {text}"),
            ActionExecuted("action_listen")]


def retrieve(store: RedactingSQLTrackerStore, sender: str = "c") -> Optional[DialogueStateTracker]:
    return asyncio.run(store.retrieve(sender))


def take_turn(store: RedactingSQLTrackerStore, text: str, sender: str = "c") -> DialogueStateTracker:
    """What the processor does in a turn: read (or start) the conversation, add events, write it."""
    tracker = retrieve(store, sender) or DialogueStateTracker.from_events(
        sender, [SessionStarted(), ActionExecuted("action_listen")]
    )
    for event in turn(text):
        tracker.update(event)
    asyncio.run(store.save(tracker))
    return tracker


def texts(tracker: Optional[DialogueStateTracker]) -> List[str]:
    assert tracker is not None
    return [event.text for event in tracker.events if isinstance(event, UserUttered)]


def test_the_next_turn_gets_the_tracker_it_wrote_equal_to_a_read(store: RedactingSQLTrackerStore, db: Path) -> None:
    take_turn(store, "first")  # a new conversation: not read, so not kept
    second = take_turn(store, "second")
    third = retrieve(store)
    assert third is second  # kept: no read, no deserialising, no replay
    fresh = retrieve(make_store(db, cached=0))
    assert fresh is not None and fresh.current_state() == third.current_state()


def test_another_servers_turn_is_read_from_the_database(store: RedactingSQLTrackerStore, db: Path) -> None:
    take_turn(store, "first")
    kept = take_turn(store, "second")
    take_turn(make_store(db), "written by the other server")
    current = retrieve(store)
    assert current is not kept and texts(current) == ["first", "second", "written by the other server"]


def test_a_deleted_conversation_is_not_served_from_the_cache(store: RedactingSQLTrackerStore) -> None:
    take_turn(store, "first")
    take_turn(store, "my son's name is Sam")
    with store.engine.begin() as connection:  # the retention job or a family's deletion request
        connection.execute(sa.text("DELETE FROM events WHERE sender_id = 'c'"))
    assert retrieve(store) is None


def test_a_turn_that_failed_before_its_write_is_not_reused(store: RedactingSQLTrackerStore) -> None:
    take_turn(store, "first")
    take_turn(store, "second")
    failed = retrieve(store)
    assert failed is not None
    failed.update(UserUttered("never written"))  # the turn fails here: no save
    current = retrieve(store)
    assert current is not failed and texts(current) == ["first", "second"]


def test_what_redaction_changed_is_read_back_redacted(store: RedactingSQLTrackerStore) -> None:
    """The next turn (and the action server) must see what the database holds, not the phone number."""
    take_turn(store, "first")
    typed = take_turn(store, "call me on 555 123 4567")
    current = retrieve(store)
    assert current is not typed and "555 123 4567" not in " ".join(texts(current))
    kept = take_turn(store, "thanks")  # from this read on, the tracker is the database's again
    assert retrieve(store) is kept


def test_a_new_session_within_the_tracker_is_read_from_the_database(store: RedactingSQLTrackerStore) -> None:
    take_turn(store, "first")
    tracker = retrieve(store)
    assert tracker is not None
    for event in [ActionExecuted("action_session_start"), SessionStarted(), SlotSet("x", 1), *turn("again")]:
        tracker.update(event)
    asyncio.run(store.save(tracker))
    current = retrieve(store)
    assert current is not tracker and texts(current) == ["again"]


def test_the_cache_keeps_the_last_conversations_only(db: Path) -> None:
    store = make_store(db, cached=2)
    for sender in "abc":
        take_turn(store, "first", sender)
        take_turn(store, "second", sender)
    assert list(store._cache) == ["b", "c"]
    assert texts(retrieve(store, "a")) == ["first", "second"]
    off = make_store(db, cached=0)
    take_turn(off, "third", "a")
    assert not off._cache
