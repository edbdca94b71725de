"""How many turns one Rasa server works on at once, and in which order the others wait.

A Rasa server is one Python thread. When it takes every request at once, their turns interleave at each await (the
database, the lock, the action server) and a turn with several awaits waits behind all the others several times:
under load the slowest turns took 4-5 times the median. The gate lets `max_concurrent_turns` turns run (enough to
overlap their waits for I/O) and queues the rest first come, first served; a message the safety net recognises as an
emergency goes to the front of the queue.
"""

from __future__ import annotations

import asyncio
from collections import deque
from contextlib import asynccontextmanager
from typing import AsyncIterator, Callable, Deque, Optional


class TurnGate:
    def __init__(self, limit: int, is_urgent: Optional[Callable[[str], bool]] = None) -> None:
        if limit < 1:
            raise ValueError("max_concurrent_turns must be at least 1")
        self.limit = limit
        self.running = 0
        self.is_urgent = is_urgent
        self._urgent: Deque[asyncio.Future] = deque()
        self._waiting: Deque[asyncio.Future] = deque()

    @property
    def queued(self) -> int:
        return len(self._urgent) + len(self._waiting)

    @asynccontextmanager
    async def turn(self, text: str) -> AsyncIterator[None]:
        if self.running < self.limit and not self.queued:
            self.running += 1
        else:
            # the safety net only runs when the message would otherwise wait
            urgent = self.is_urgent is not None and self.is_urgent(text)
            ticket = asyncio.get_running_loop().create_future()
            (self._urgent if urgent else self._waiting).append(ticket)
            try:
                await ticket  # the finishing turn hands its place over: `running` is unchanged
            except asyncio.CancelledError:
                if ticket.done() and not ticket.cancelled():
                    self._hand_over()  # it was handed a place it will not use
                else:
                    # A finishing turn may have run between the cancellation and this line: it dropped the
                    # cancelled ticket and passed the place on (or freed it), so the ticket is no longer queued.
                    for queue in (self._urgent, self._waiting):
                        if ticket in queue:
                            queue.remove(ticket)
                raise
        try:
            yield
        finally:
            self._hand_over()

    def _hand_over(self) -> None:
        """The place of a finished turn goes to the next waiter (urgent ones first), or is freed."""
        for queue in (self._urgent, self._waiting):
            while queue:
                ticket = queue.popleft()
                if not ticket.done():
                    ticket.set_result(None)
                    return
        self.running -= 1
