"""The conversation lock of the production profile (bot/rasa/lock_store.py) against a real Redis server."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Iterator, List, Tuple

import pytest
import redis
from rasa.core.lock_store import RedisLockStore
from rasa.utils.endpoints import EndpointConfig

from bot.processes import free_port
from bot.rasa.lock_store import KeepAliveRedisLockStore

pytestmark = pytest.mark.servers  # a real redis-server
LIFETIME = 1.0  # seconds: short, so that tickets expire within a test


@pytest.fixture(scope="module")
def redis_port() -> Iterator[int]:
    if not shutil.which("redis-server"):
        pytest.fail("redis-server is missing: `make test` installs it (scripts/system-deps.sh)")
    port = free_port()
    directory = Path(tempfile.mkdtemp(prefix="redis-test-"))
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(directory)],
        stdout=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.1)
    yield port
    server.terminate()
    server.wait(10)
    shutil.rmtree(directory, ignore_errors=True)


def keep_alive_store(port: int) -> KeepAliveRedisLockStore:
    config = EndpointConfig(url="127.0.0.1", port=port, db=1, key_prefix="test", poll_seconds=0.1)
    return KeepAliveRedisLockStore(config)


def dead_server_then_waiter(store: RedisLockStore, conversation: str) -> Tuple[float, bool]:
    """A server takes a ticket and dies holding it; 50 ms later a message of the same conversation waits for the
    lock. Returns how long the waiter waited and whether it got the lock within 5 s."""

    async def scenario() -> Tuple[float, bool]:
        store.issue_ticket(conversation, LIFETIME)  # the dead server's ticket: never cleaned up
        await asyncio.sleep(0.05)
        started = time.monotonic()

        async def wait() -> None:
            async with store.lock(conversation, lock_lifetime=LIFETIME):
                pass

        try:
            await asyncio.wait_for(wait(), timeout=5)
            return time.monotonic() - started, True
        except asyncio.TimeoutError:
            return time.monotonic() - started, False

    return asyncio.run(scenario())


def test_stock_rasa_lock_strands_a_message_queued_behind_a_dead_server(redis_port: int) -> None:
    """The fault this module exists for: both tickets expire between two of Rasa's 1 s polls and the waiter is
    never served."""
    store = RedisLockStore(port=redis_port, db=1, key_prefix="stock")
    _, served = dead_server_then_waiter(store, "stock-conversation")
    assert not served


def test_a_message_queued_behind_a_dead_server_is_served_once_its_ticket_expires(redis_port: int) -> None:
    store = keep_alive_store(redis_port)
    waited, served = dead_server_then_waiter(store, "dead-holder")
    assert served
    assert LIFETIME - 0.1 < waited < LIFETIME + 1.0
    assert store.get_lock("dead-holder") is None  # the queue went with its last ticket


def test_queued_messages_are_served_in_order_even_when_waiting_outlasts_their_tickets(redis_port: int) -> None:
    """Three messages of one conversation: the third waits 1.3 s, longer than its ticket's 1 s lifetime, and is
    still served, after the second and never alongside another."""
    store = keep_alive_store(redis_port)
    order: List[str] = []
    inside: List[str] = []

    async def scenario() -> None:
        async def message(name: str, delay: float, work: float) -> None:
            await asyncio.sleep(delay)
            async with store.lock("queue", lock_lifetime=LIFETIME):
                order.append(name)
                inside.append(name)
                assert inside == [name]
                await asyncio.sleep(work)
                inside.remove(name)

        await asyncio.gather(message("first", 0, 0.8), message("second", 0.05, 0.5), message("third", 0.1, 0))

    asyncio.run(scenario())
    assert order == ["first", "second", "third"]


def test_two_servers_never_hold_a_conversation_at_the_same_time(redis_port: int) -> None:
    """Two stores in two threads (two Rasa servers) each send 20 messages of one conversation at once: no two turns
    overlap, every message is served once, and the queue is gone at the end."""
    servers = [keep_alive_store(redis_port), keep_alive_store(redis_port)]
    guard = threading.Lock()
    inside: List[int] = []
    overlaps: List[int] = []
    served: List[int] = []

    def server(index: int) -> None:
        async def message(number: int) -> None:
            async with servers[index].lock("shared", lock_lifetime=30):
                with guard:
                    inside.append(number)
                    if len(inside) > 1:
                        overlaps.append(number)
                await asyncio.sleep(0.002)
                with guard:
                    served.append(number)
                    inside.remove(number)

        async def messages() -> None:
            await asyncio.gather(*(message(number) for number in range(index, 40, 2)))

        asyncio.run(messages())

    threads = [threading.Thread(target=server, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert overlaps == []
    assert sorted(served) == list(range(40))
    assert servers[0].get_lock("shared") is None
