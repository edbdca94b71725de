"""The tracker store's resilience (bot/tracker_store.py), on SQLite with a database that fails on demand."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Iterator

import pytest
from rasa.core.tracker_store import FailSafeTrackerStore, SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.exc import OperationalError

from bot.tracker_store import RedactingSQLTrackerStore, TrackerStoreUnavailable, TurnHealth, begin_turn


class Outage:
    """Makes SQLTrackerStore's reads and writes fail `failures` times with a connection error."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, failures: int) -> None:
        self.failures = failures
        for name in ("save", "retrieve"):
            original = getattr(SQLTrackerStore, name)
            monkeypatch.setattr(SQLTrackerStore, name, self.wrap(original))

    def wrap(self, original: Any) -> Any:
        async def failing(store: SQLTrackerStore, *args: Any) -> Any:
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


def test_the_engine_checks_connections_before_use(store: RedactingSQLTrackerStore) -> None:
    assert store.engine.pool._pre_ping


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
