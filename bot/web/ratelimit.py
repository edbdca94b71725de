"""A per-client token bucket for the chat proxy: one client sending as fast as it can cannot starve the others.

Each client address has a bucket of `burst` tokens refilled at `per_minute` tokens a minute; a message takes one
token, and a message finding the bucket empty is refused (429 with the calm reply, bot.web.widget). nginx does the
same in the production profile (config/prod/nginx.conf.template, `limit_req`) with the same settings.
"""

from __future__ import annotations

import threading
import time
from typing import Callable, Dict, Tuple


class TokenBuckets:
    """Buckets by client key, thread-safe (waitress serves on 16 threads); full buckets are forgotten when more than
    `max_clients` are kept, so memory stays bounded however many addresses come by."""

    def __init__(
        self, per_minute: int, burst: int, clock: Callable[[], float] = time.monotonic, max_clients: int = 10_000
    ) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(max(burst, 1))
        self.clock = clock
        self.max_clients = max_clients
        self._buckets: Dict[str, Tuple[float, float]] = {}  # key -> (tokens, time of that count)
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def _tokens(self, key: str, now: float) -> float:
        tokens, then = self._buckets.get(key, (self.burst, now))
        return min(self.burst, tokens + (now - then) * self.rate)

    def take(self, key: str) -> float:
        """0 when the client may send now (a token is taken); else the seconds until it may (nothing is taken)."""
        if not self.enabled:
            return 0.0
        with self._lock:
            now = self.clock()
            tokens = self._tokens(key, now)
            if tokens < 1:
                self._buckets[key] = (tokens, now)
                return (1 - tokens) / self.rate
            if len(self._buckets) >= self.max_clients and key not in self._buckets:
                self._forget_full(now)
            self._buckets[key] = (tokens - 1, now)
            return 0.0

    def _forget_full(self, now: float) -> None:
        full = [key for key in self._buckets if self._tokens(key, now) >= self.burst]
        for key in full:
            del self._buckets[key]
