"""Rasa's SQL tracker store, with personal data redacted from what families typed before it is written.

The NLU and the policies work on the original text during the turn; only what is stored is redacted: the user
message's text and its whole parse data (text, entities, the safety net's matched phrase, ...) and metadata, the
values of slots (filled from entities) and of added entities. Bot messages are stored as they were sent.

Speed: the same table and the same queries as Rasa's SQLTrackerStore, but as SQLAlchemy Core statements built once
(Rasa's ORM queries cost more Python time than the database work: a third of a turn in the benchmark's profile), and
the write does not count the stored events again when the tracker was read by this store in the same turn. On
PostgreSQL a read or a write is one statement in autocommit mode: one round trip each. On SQLite (make run),
``sqlite_wal: true`` (endpoints.yml) writes in write-ahead-log mode, synced at checkpoints rather than every commit,
on a connection kept open.

Cache (``cached_conversations`` in endpoints.yml, 0: off): the tracker this store wrote at the end of a turn is kept
(the last N conversations, least recently used first out), so the next turn of the conversation neither reads nor
deserialises and replays its events again (that cost grew with the conversation). A cached tracker is used only when
one query shows the table still holds exactly what this store wrote for the conversation (number of rows, newest
timestamp): another server's turn, a deletion (retention, a family's request) or anything else makes it read the
conversation from the database as before. A tracker is not cached when what the database would give back differs
from it: a message or slot that redaction changed, a new session started within it. A cached tracker is taken out
of the cache when it is read, and put back only after its turn was written, so a failed turn is never reused.

Resilience: Rasa wraps every tracker store in a FailSafeTrackerStore that swallows errors and keeps the conversation
in memory, which would silently drop messages while the database is down. This store therefore
- retries a read or write that failed on the connection for ``retry_seconds`` (endpoints.yml), with backoff (a
  connection found dead makes SQLAlchemy discard the pool, so a restarted database is reconnected by itself);
- when it still fails, records the failure in the turn's :class:`TurnHealth` (a context variable the REST channel
  sets before each turn) and refuses to write the rest of that turn, so the channel answers 503, never a silent 200.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import logging
import time
from collections import OrderedDict
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Dict, List, Optional, Tuple, TypeVar

import sqlalchemy as sa
import sqlalchemy.orm  # noqa: F401 (sa.orm)
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.events import EntitiesAdded, Event, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import exc as sa_exc

from bot.core.privacy import redact_all

logger = logging.getLogger(__name__)

T = TypeVar("T")
DEFAULT_RETRY_SECONDS = 6.0
# Set on a tracker this store read: how many of its events are stored (those since the last session start).
STORED_EVENTS = "_family_stored_events"
# Set on a tracker this store read with the cache on: (rows of the conversation in the table, newest timestamp).
STORED_ROWS = "_family_stored_rows"
# Errors of the connection (database down, restarting, network): worth retrying. Anything else fails at once.
RETRYABLE = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DisconnectionError, sa_exc.TimeoutError)


class TrackerStoreUnavailable(Exception):
    """The conversation could not be read or written (the message names the operation, never the content)."""


@dataclass
class TurnHealth:
    """What went wrong with the tracker store during one turn (set per request by the REST channel)."""

    failures: List[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return bool(self.failures)


_turn_health: ContextVar[Optional[TurnHealth]] = ContextVar("tracker_store_turn_health", default=None)


def begin_turn() -> TurnHealth:
    """Start recording tracker store failures for the turn that runs in the current task."""
    health = TurnHealth()
    _turn_health.set(health)
    return health


class RedactingSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore that never writes a phone number, e-mail or street address a family typed."""

    def __init__(
        self, *args: Any, retry_seconds: Any = DEFAULT_RETRY_SECONDS, cached_conversations: Any = 0,
        sqlite_wal: Any = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        if self.engine.dialect.name == "sqlite" and str(sqlite_wal).lower() in ("1", "true", "yes"):
            # one connection kept per thread (the server has one), instead of a new one for every read and write
            url = self.engine.url
            self.engine.dispose()
            self.engine = sa.create_engine(url, poolclass=sa.pool.SingletonThreadPool, **create_engine_kwargs(url))
            sa.event.listen(self.engine, "connect", _write_ahead_log)
            self.sessionmaker = sa.orm.sessionmaker(bind=self.engine)
        self.retry_seconds = float(retry_seconds)
        self.cache_size = int(cached_conversations)
        self._cache: OrderedDict[str, _Cached] = OrderedDict()
        self._statements = _Statements(self.SQLEvent.__table__)
        if self.engine.dialect.name == "postgresql":
            # Each read and each write is one statement: in autocommit mode it is one round trip, instead of BEGIN,
            # the statement and ROLLBACK/COMMIT. Writes of one conversation never race: Rasa's conversation lock.
            url = self.engine.url
            self.engine.dispose()
            self.engine = sa.create_engine(url, isolation_level="AUTOCOMMIT", **create_engine_kwargs(url))
            self.sessionmaker = sa.orm.sessionmaker(bind=self.engine)

    async def retrieve(self, sender_id: str) -> Optional[DialogueStateTracker]:
        return await self._reliably("read", self._read, sender_id, False)

    async def retrieve_full_tracker(self, conversation_id: str) -> Optional[DialogueStateTracker]:
        return await self._reliably("read", self._read, conversation_id, True)

    async def save(self, tracker: DialogueStateTracker) -> None:
        health = _turn_health.get()
        if health is not None and health.failed:
            # the tracker was not read from the database: writing it would corrupt the stored conversation
            raise TrackerStoreUnavailable("the conversation was not read, so it is not written")
        await self.stream_events(tracker)
        await self._reliably("write", self._write, tracker)

    async def _read(self, sender_id: str, all_sessions: bool) -> Optional[DialogueStateTracker]:
        """Rasa's `_retrieve`: the events since the last session start (or all), in id order."""
        query = self._statements.all_events if all_sessions else self._statements.session_events
        cached = self._cache.pop(sender_id, None)
        fingerprint: Optional[Tuple[int, Optional[float]]] = None
        with self.engine.connect() as connection:
            if self.cache_size and not all_sessions:
                stored, newest = connection.execute(self._statements.fingerprint, {"sender": sender_id}).one()
                fingerprint = (int(stored), newest)
                if cached is not None and cached.unchanged(fingerprint, self.domain):
                    setattr(cached.tracker, STORED_EVENTS, len(cached.tracker.events))
                    setattr(cached.tracker, STORED_ROWS, fingerprint)
                    return cached.tracker
            rows = connection.execute(query, {"sender": sender_id}).fetchall()
        if not rows or not self.domain:
            return None
        tracker = DialogueStateTracker.from_dict(sender_id, [json.loads(data) for (data,) in rows], self.domain.slots)
        if not all_sessions:
            setattr(tracker, STORED_EVENTS, len(rows))
        if fingerprint is not None:
            setattr(tracker, STORED_ROWS, fingerprint)
        return tracker

    async def _write(self, tracker: DialogueStateTracker) -> None:
        """Rasa's `save`: the tracker's events that are not stored yet, redacted, in one transaction."""
        cacheable = self.cache_size > 0 and tracker._max_event_history is None
        with self.engine.begin() as connection:
            stored = getattr(tracker, STORED_EVENTS, None)
            if stored is None:
                stored = connection.execute(self._statements.count, {"sender": tracker.sender_id}).scalar_one()
            new = []
            for index, event in enumerate(itertools.islice(tracker.events, stored, None), start=stored):
                clean = redacted(event)
                new.append(_row(tracker.sender_id, clean))
                if cacheable and (
                    (clean is not event and new[-1]["data"] != json.dumps(event.as_dict()))  # redaction changed it
                    or (index > 0 and isinstance(event, SessionStarted))  # a read would start at the new session
                ):
                    cacheable = False
            if new:
                connection.execute(self._statements.insert, new)
        # what is stored "since the last session start" changes if this write started a session: count next time
        if hasattr(tracker, STORED_EVENTS):
            delattr(tracker, STORED_EVENTS)
        rows: Optional[Tuple[int, Optional[float]]] = getattr(tracker, STORED_ROWS, None)
        if hasattr(tracker, STORED_ROWS):
            delattr(tracker, STORED_ROWS)
        if cacheable and rows is not None and tracker.events:
            times = [row["timestamp"] for row in new if row["timestamp"] is not None]
            newest = max([*times, *([rows[1]] if rows[1] is not None else [])], default=None)
            self._cache[tracker.sender_id] = _Cached(
                tracker, self.domain, (rows[0] + len(new), newest), len(tracker.events), tracker.events[-1]
            )
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)

    async def _reliably(self, operation: str, call: Callable[..., Awaitable[T]], *args: Any) -> T:
        """``await call(*args)``, retried with backoff on connection errors for up to ``retry_seconds``."""
        deadline = time.monotonic() + self.retry_seconds
        delay = 0.1
        while True:
            try:
                return await call(*args)
            except RETRYABLE as error:
                if time.monotonic() + delay > deadline:
                    raise self._failure(operation, error) from None
                logger.warning("Tracker store %s failed (%s); retrying", operation, type(error).__name__)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)
            except Exception as error:
                raise self._failure(operation, error) from None

    @staticmethod
    def _failure(operation: str, error: Exception) -> TrackerStoreUnavailable:
        """Record the failure for the turn; the error to raise (no SQL or message text in it, it gets logged)."""
        reason = f"could not {operation} the conversation ({type(error).__name__})"
        health = _turn_health.get()
        if health is not None:
            health.failures.append(reason)
        logger.error("Tracker store: %s", reason)
        return TrackerStoreUnavailable(reason)



class _Statements:
    """Rasa's event queries as Core statements, built once (SQLAlchemy caches their compiled form)."""

    def __init__(self, events: sa.Table) -> None:
        sender = sa.bindparam("sender")
        session_start = (
            sa.select(sa.func.max(events.c.timestamp))
            .where(events.c.sender_id == sender, events.c.type_name == SessionStarted.type_name)
            .scalar_subquery()
        )
        since_session_start = sa.or_(events.c.timestamp >= session_start, session_start.is_(None))
        self.all_events = sa.select(events.c.data).where(events.c.sender_id == sender).order_by(events.c.id)
        self.session_events = self.all_events.where(since_session_start)
        self.count = (
            sa.select(sa.func.count()).select_from(events).where(events.c.sender_id == sender, since_session_start)
        )
        self.fingerprint = sa.select(sa.func.count(), sa.func.max(events.c.timestamp)).where(
            events.c.sender_id == sender
        )
        self.insert = events.insert()


def _write_ahead_log(connection: Any, record: Any) -> None:
    """SQLite in write-ahead-log mode, synced at checkpoints: a commit no longer waits for the disk (a fifth of a
    turn in make run). A killed process loses nothing; a power cut may lose the last commits, never the file."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@dataclass
class _Cached:
    """A tracker as this store wrote it, and what the table held for its conversation after the write."""

    tracker: DialogueStateTracker
    domain: Any
    stored: Tuple[int, Optional[float]]  # (rows, newest timestamp)
    events: int
    last: Event

    def unchanged(self, stored: Tuple[int, Optional[float]], domain: Any) -> bool:
        """The table holds what was written and the tracker has not changed since (nor the model's domain)."""
        return (
            stored == self.stored and domain is self.domain and len(self.tracker.events) == self.events
            and self.tracker.events[-1] is self.last
        )


def _row(sender_id: str, event: Event) -> Dict[str, Any]:
    """The events table's columns for one event, as Rasa's SQLTrackerStore.save fills them."""
    data = event.as_dict()
    return {
        "sender_id": sender_id,
        "type_name": event.type_name,
        "timestamp": data.get("timestamp"),
        "intent_name": data.get("parse_data", {}).get("intent", {}).get("name"),
        "action_name": data.get("name"),
        "data": json.dumps(data),
    }


def redacted(event: Event) -> Event:
    """A redacted copy of the event (the tracker's own event is left as it is)."""
    if isinstance(event, UserUttered):
        clean = copy.deepcopy(event)
        clean.text = redact_all(event.text)
        clean.entities = redact_all(event.entities)
        clean.parse_data = redact_all(event.parse_data)
        clean.metadata = redact_all(event.metadata)
        return clean
    if isinstance(event, SlotSet) and isinstance(event.value, (str, list, dict)):
        clean = copy.deepcopy(event)
        clean.value = redact_all(event.value)
        return clean
    if isinstance(event, EntitiesAdded):
        clean = copy.deepcopy(event)
        clean.entities = redact_all(event.entities)
        return clean
    return event
