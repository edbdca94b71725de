"""Rasa's Redis conversation lock, made safe for several servers and for a server killed while holding it.

Rasa keeps one ticket queue per conversation in Redis; every message takes a ticket that expires
`TICKET_LOCK_LIFETIME` seconds after it was issued, so that the ticket of a killed server does not block the
conversation for ever. Two faults of Rasa 3.6's version, both seen in the kill test (tests/test_prod.py):

- A message *waiting* behind a dead ticket holds a ticket issued at about the same time. When both expire between
  two polls, the waiter has no ticket left and can never be served (`now_serving` is then 0, never its number): it
  waits until the client gives up. Here a waiter renews its own ticket on every poll, so only dead servers' tickets
  expire.
- Every change is a read-modify-write of the whole queue without a transaction, so two servers can overwrite each
  other (a finished ticket written back, a new ticket deleted). Here every change is one optimistic Redis
  transaction (WATCH/MULTI), retried when another server changed the queue in between.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Callable, Dict, Text, Tuple

import redis
from rasa.core.lock import Ticket, TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

Change = Callable[[TicketLock], Any]


class KeepAliveRedisLockStore(RedisLockStore):
    """`type: bot.rasa.lock_store.KeepAliveRedisLockStore` in endpoints.yml: the `redis` type's settings, plus
    `poll_seconds`, how often a waiting message looks at the queue (Rasa: every second)."""

    def __init__(self, endpoint_config: EndpointConfig) -> None:
        settings: Dict[str, Any] = dict(endpoint_config.kwargs)
        self.poll_seconds = float(settings.pop("poll_seconds", 0.2))
        super().__init__(host=endpoint_config.url or "localhost", **settings)

    # ---------------------------------------------------------------------------------------- atomic queue changes
    def _change(self, conversation_id: Text, change: Change, create: bool = True) -> Any:
        """Apply `change` to the conversation's queue in one transaction; an emptied queue is deleted. Returns what
        `change` returned (None, without calling it, when there is no queue and `create` is false)."""
        key = self.key_prefix + conversation_id
        with self.red.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)
                    raw = pipe.get(key)
                    if raw is None and not create:
                        pipe.reset()
                        return None
                    lock = TicketLock.from_dict(json.loads(raw)) if raw else TicketLock(conversation_id)
                    result = change(lock)
                    lock.remove_expired_tickets()
                    pipe.multi()
                    if lock.tickets:
                        pipe.set(key, lock.dumps())
                    else:
                        pipe.delete(key)
                    pipe.execute()
                    return result
                except redis.WatchError:
                    continue

    def issue_ticket(self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME) -> int:
        return self._take_ticket(conversation_id, lock_lifetime)[0]

    def update_lock(self, conversation_id: Text) -> None:
        self._change(conversation_id, lambda lock: None, create=False)

    def finish_serving(self, conversation_id: Text, ticket_number: int) -> None:
        self._change(conversation_id, lambda lock: lock.remove_ticket_for(ticket_number), create=False)

    def cleanup(self, conversation_id: Text, ticket_number: int) -> None:
        """Remove the ticket; the queue goes with its last ticket (in the same transaction, so a ticket another
        server issues meanwhile is never deleted)."""
        self.finish_serving(conversation_id, ticket_number)

    # -------------------------------------------------------------------------------------------------- waiting
    @asynccontextmanager
    async def lock(
        self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME, wait_time_in_seconds: float = 1
    ) -> AsyncIterator[TicketLock]:
        """Rasa's lock, except that the wait polls every `poll_seconds` and keeps this message's ticket alive."""
        ticket, lock = self._take_ticket(conversation_id, lock_lifetime)
        try:
            if lock.is_locked(ticket):  # usually not: one message of a conversation at a time
                lock = await self._wait(conversation_id, ticket, lock_lifetime)
            yield lock
        finally:
            self.cleanup(conversation_id, ticket)

    def _take_ticket(self, conversation_id: Text, lifetime: float) -> Tuple[int, TicketLock]:
        """A new ticket and the queue it joined, in one transaction."""

        def issue(lock: TicketLock) -> Tuple[int, TicketLock]:
            return lock.issue_ticket(lifetime), lock

        try:
            return self._change(conversation_id, issue)
        except redis.RedisError as error:
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error

    async def _wait(self, conversation_id: Text, ticket: int, lifetime: float) -> TicketLock:
        while True:
            await asyncio.sleep(self.poll_seconds)
            lock = self._change(conversation_id, lambda lock: _renewed(lock, ticket, lifetime))
            if not lock.is_locked(ticket):
                return lock


def _renewed(lock: TicketLock, number: int, lifetime: float) -> TicketLock:
    """The queue with this live waiter's ticket expiring `lifetime` from now (put back if it had expired)."""
    lock.remove_expired_tickets()
    if not any(ticket.number == number for ticket in lock.tickets):
        lock.tickets = deque(sorted([*lock.tickets, Ticket(number, 0.0)], key=lambda ticket: ticket.number))
    for ticket in lock.tickets:
        if ticket.number == number:
            ticket.expires = time.time() + lifetime
    return lock
