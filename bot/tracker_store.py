"""Rasa's SQL tracker store, with personal data redacted from what families typed before it is written.

The NLU and the policies work on the original text during the turn; only what is stored is redacted: the user
message's text and its whole parse data (text, entities, the safety net's matched phrase, ...) and metadata, the
values of slots (filled from entities) and of added entities. Bot messages are stored as they were sent.

Resilience: Rasa wraps every tracker store in a FailSafeTrackerStore that swallows errors and keeps the conversation
in memory, which would silently drop messages while the database is down. This store therefore
- checks pooled connections before use (``pool_pre_ping``), so a restarted database is reconnected by itself;
- retries a read or write that failed on the connection for ``retry_seconds`` (endpoints.yml), with backoff;
- when it still fails, records the failure in the turn's :class:`TurnHealth` (a context variable the REST channel
  sets before each turn) and refuses to write the rest of that turn, so the channel answers 503, never a silent 200.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import time
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, List, Optional, TypeVar

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.events import EntitiesAdded, Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import sessionmaker

from bot.privacy import redact_all

logger = logging.getLogger(__name__)

T = TypeVar("T")
DEFAULT_RETRY_SECONDS = 6.0
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

    def __init__(self, *args: Any, retry_seconds: Any = DEFAULT_RETRY_SECONDS, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.retry_seconds = float(retry_seconds)
        url = self.engine.url
        self.engine.dispose()
        self.engine = sa.create_engine(url, pool_pre_ping=True, **create_engine_kwargs(url))
        self.sessionmaker = sessionmaker(bind=self.engine)

    async def retrieve(self, sender_id: str) -> Optional[DialogueStateTracker]:
        return await self._reliably("read", super().retrieve, sender_id)

    async def retrieve_full_tracker(self, conversation_id: str) -> Optional[DialogueStateTracker]:
        return await self._reliably("read", super().retrieve_full_tracker, conversation_id)

    async def save(self, tracker: DialogueStateTracker) -> None:
        health = _turn_health.get()
        if health is not None and health.failed:
            # the tracker was not read from the database: writing it would corrupt the stored conversation
            raise TrackerStoreUnavailable("the conversation was not read, so it is not written")
        await self._reliably("write", super().save, tracker)

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

    def _additional_events(self, session: Any, tracker: DialogueStateTracker) -> Iterator[Event]:
        for event in super()._additional_events(session, tracker):
            yield redacted(event)


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
