"""The tracker store's resilience (bot/rasa/tracker_store.py), on SQLite with a database that fails on demand."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
from rasa.core.tracker_store import FailSafeTrackerStore, SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.exc import OperationalError

from bot.rasa.tracker_store import RedactingSQLTrackerStore, TrackerStoreUnavailable, TurnHealth, begin_turn


class Outage:
    """Makes the store's database reads and writes fail `failures` times with a connection error."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, failures: int) -> None:
        self.failures = failures
        for name in ("_write", "_read"):
            original = getattr(RedactingSQLTrackerStore, name)
            monkeypatch.setattr(RedactingSQLTrackerStore, name, self.wrap(original))

    def wrap(self, original: Any) -> Any:
        async def failing(store: RedactingSQLTrackerStore, *args: Any) -> Any:
            if self.failures > 0:
                self.failures -= 1
                raise OperationalError("INSERT INTO events ... my son's phone is 555 123 4567", {}, Exception())
            return await original(store, *args)

        return failing


@pytest.fixture
def store(tmp_path: Path) -> Iterator[RedactingSQLTrackerStore]:
    store = RedactingSQLTrackerStore(domain=Domain.empty(), dialect="sqlite", db=str(tmp_path / "t.db"),
                                     retry_seconds="0.5")
    yield store
    store.engine.dispose()


def tracker(sender: str) -> DialogueStateTracker:
    return DialogueStateTracker.from_events(sender, [ActionExecuted("action_listen"), UserUttered("what is dbt")])


def in_turn(coroutine_factory: Any) -> tuple[TurnHealth, Any]:
    """Run a coroutine as the REST channel runs a turn (its own task, after begin_turn()): the turn's health and
    the coroutine's result or exception."""

    async def turn() -> tuple[TurnHealth, Any]:
        health = begin_turn()
        try:
            return health, await coroutine_factory()
        except Exception as error:
            return health, error

    return asyncio.run(turn())


def turn_events(text: str) -> list:
    return [UserUttered(text), ActionExecuted("utter_answer"), BotUttered("an answer"), ActionExecuted("action_listen")]


def test_turns_are_stored_once_in_order_and_stock_rasa_reads_the_same_conversation(
    store: RedactingSQLTrackerStore, tmp_path: Path
) -> None:
    """Each turn reads the conversation, adds its events and writes only those (without counting the stored
    events again); a second write of the same tracker adds nothing; Rasa's own SQLTrackerStore reads it back."""
    asyncio.run(store.save(tracker("e")))
    for number in range(3):
        current = asyncio.run(store.retrieve("e"))
        assert current is not None
        for event in turn_events(f"question {number}"):
            current.update(event)
        asyncio.run(store.save(current))
        asyncio.run(store.save(current))
    ours = asyncio.run(store.retrieve("e"))
    stock = SQLTrackerStore(domain=Domain.empty(), dialect="sqlite", db=str(tmp_path / "t.db"))
    theirs = asyncio.run(stock.retrieve("e"))
    assert ours is not None and theirs is not None
    assert len(ours.events) == 2 + 3 * 4
    assert [e.as_dict() for e in ours.events] == [e.as_dict() for e in theirs.events]
    assert [e.text for e in ours.events if isinstance(e, UserUttered)] == [
        "what is dbt", "question 0", "question 1", "question 2"]


def test_a_session_started_during_a_turn_is_stored_and_read_as_the_new_session(
    store: RedactingSQLTrackerStore,
) -> None:
    asyncio.run(store.save(tracker("f")))
    current = asyncio.run(store.retrieve("f"))
    assert current is not None
    later = time.time() + 3600
    new_session = [ActionExecuted("action_session_start", timestamp=later), SessionStarted(timestamp=later + 1),
                   ActionExecuted("action_listen", timestamp=later + 2), UserUttered("hello", timestamp=later + 3)]
    for event in new_session:
        current.update(event)
    asyncio.run(store.save(current))
    session = asyncio.run(store.retrieve("f"))
    everything = asyncio.run(store.retrieve_full_tracker("f"))
    assert session is not None and everything is not None
    assert [type(e).__name__ for e in session.events] == ["SessionStarted", "ActionExecuted", "UserUttered"]
    assert len(everything.events) == 2 + 4
    # the next turn of the new session writes only its own events
    for event in turn_events("and then?"):
        session.update(event)
    asyncio.run(store.save(session))
    assert len(asyncio.run(store.retrieve_full_tracker("f")).events) == 2 + 4 + 4  # type: ignore[union-attr]


def test_a_short_outage_is_retried_and_nothing_is_lost(
    store: RedactingSQLTrackerStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    Outage(monkeypatch, failures=2)
    health, _ = in_turn(lambda: store.save(tracker("a")))
    assert not health.failed
    stored = asyncio.run(store.retrieve("a"))
    assert stored is not None and stored.latest_message.text == "what is dbt"


def test_a_long_outage_is_recorded_for_the_turn_without_the_message_text(
    store: RedactingSQLTrackerStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    Outage(monkeypatch, failures=1000)
    health, error = in_turn(lambda: store.save(tracker("b")))
    assert isinstance(error, TrackerStoreUnavailable)
    assert health.failures == ["could not write the conversation (OperationalError)"]
    assert "555" not in str(error) and "INSERT" not in str(error)


def test_a_turn_whose_conversation_could_not_be_read_is_not_written(
    store: RedactingSQLTrackerStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rasa's FailSafeTrackerStore turns a failed read into a new, empty conversation; writing that would corrupt
    the stored one, so the rest of the turn is refused and the channel sees the failure."""
    asyncio.run(store.save(tracker("c")))
    outage = Outage(monkeypatch, failures=1000)
    failsafe = FailSafeTrackerStore(store)

    async def turn() -> None:
        assert await failsafe.retrieve("c") is None  # swallowed by Rasa
        outage.failures = 0  # the database is back before the turn ends
        fresh = DialogueStateTracker.from_events("c", [ActionExecuted("action_session_start"), *tracker("c").events,
                                                       ActionExecuted("utter_greet")])
        await failsafe.save(fresh)  # refused by our store, swallowed by Rasa (kept in memory)

    health, _ = in_turn(turn)
    assert health.failed
    stored = asyncio.run(store.retrieve("c"))
    assert stored is not None and len(stored.events) == 2  # the first save only


def test_without_a_turn_context_errors_still_surface(
    store: RedactingSQLTrackerStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    Outage(monkeypatch, failures=1000)
    with pytest.raises(TrackerStoreUnavailable):
        asyncio.run(store.save(tracker("d")))
