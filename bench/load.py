"""A load generator for Rasa's REST channel: concurrent conversations, each a sequence of turns (asyncio + aiohttp).

Used by the benchmark (bench/__main__.py) and the production load and fault tests (tests/test_prod.py). Every turn
is recorded (status, the bot's texts, latency, attempts), so a test can compare what each client sent and received
with what the tracker store holds.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
import uuid
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence
from urllib.parse import urlsplit

import aiohttp

WEBHOOK = "/webhooks/rest/webhook"


@dataclass
class Turn:
    message: str
    status: int = 0  # of the last attempt; 0 when no HTTP answer came (connection refused, reset, timeout)
    answers: List[Optional[str]] = field(default_factory=list)  # "text" of each bot message (200 only)
    body: object = None  # the last attempt's JSON body
    seconds: float = 0.0  # latency of the last attempt
    attempts: int = 0
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status == 200


@dataclass
class Conversation:
    sender: str
    turns: List[Turn] = field(default_factory=list)


@dataclass
class Result:
    conversations: List[Conversation]
    seconds: float  # wall-clock time of the whole run

    @property
    def turns(self) -> List[Turn]:
        return [turn for conversation in self.conversations for turn in conversation.turns]

    @property
    def failed(self) -> List[Turn]:
        return [turn for turn in self.turns if not turn.ok]


@dataclass
class Stats:
    turns: int
    errors: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    throughput: float  # answered turns per second


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)] if ordered else float("nan")


def stats(result: Result) -> Stats:
    answered = [turn.seconds * 1000 for turn in result.turns if turn.ok]
    return Stats(
        turns=len(result.turns),
        errors=len(result.failed),
        p50_ms=percentile(answered, 50),
        p95_ms=percentile(answered, 95),
        p99_ms=percentile(answered, 99),
        throughput=len(answered) / result.seconds,
    )


def scripts(
    pool: Sequence[str], conversations: int, turns: int, seed: int = 7, prefix: str = "load"
) -> Dict[str, List[str]]:
    """`conversations` senders with `turns` messages each from `pool`, none twice in a row in a conversation."""
    rng = random.Random(seed)
    run = f"{prefix}-{uuid.uuid4().hex[:8]}"
    out = {}
    for number in range(conversations):
        messages: List[str] = []
        while len(messages) < turns:
            messages += rng.sample(list(pool), min(len(pool), turns - len(messages)))
        out[f"{run}-{number:04d}"] = messages
    return out


async def attempt(session: aiohttp.ClientSession, url: str, sender: str, turn: Turn, timeout: float) -> None:
    """One POST to the REST channel; the outcome goes into `turn`."""
    turn.attempts += 1
    start = time.perf_counter()
    try:
        async with session.post(
            url + WEBHOOK, json={"sender": sender, "message": turn.message}, timeout=aiohttp.ClientTimeout(timeout)
        ) as response:
            turn.status = response.status
            turn.body = await response.json(content_type=None)
            turn.error = ""
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
        turn.status, turn.body, turn.error = 0, None, type(error).__name__
    turn.seconds = time.perf_counter() - start
    if turn.ok:
        turn.answers = [message.get("text") for message in turn.body]  # type: ignore[union-attr]


async def converse(
    session: aiohttp.ClientSession,
    url: str,
    sender: str,
    messages: Sequence[str],
    retries: int,
    timeout: float,
    on_turn: Callable[[], None],
) -> Conversation:
    """The turns of one conversation, in order; a failed turn is retried up to `retries` times."""
    conversation = Conversation(sender)
    for message in messages:
        turn = Turn(message)
        while turn.attempts <= retries and not turn.ok:
            await attempt(session, url, sender, turn, timeout)
        conversation.turns.append(turn)
        on_turn()
    return conversation


def client_address(url: str, number: int) -> Optional[str]:
    """Each conversation is one family with its own address, as the per-client rate limits (nginx, the web server)
    see families: on loopback, conversation n connects from 127.1.x.y (Linux routes all of 127/8 to lo)."""
    if (urlsplit(url).hostname or "") not in ("127.0.0.1", "localhost"):
        return None
    return f"127.1.{number // 250 % 250}.{number % 250 + 1}"


def client_session(url: str, number: int) -> aiohttp.ClientSession:
    address = client_address(url, number)
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0, local_addr=(address, 0) if address else None)
    )


async def paced(
    url: str, sender: str, messages: Sequence[str], interval: float, number: int, wait: bool = True,
    timeout: float = 60,
) -> Conversation:
    """One client sending a message every `interval` seconds from its own address (client_address). `wait`: a
    person, who waits for the answer before the next message (a slow answer delays the next one); else a flood,
    which sends on schedule whatever happens to the earlier messages."""
    conversation = Conversation(sender, [Turn(message) for message in messages])
    async with client_session(url, number) as session:
        start = time.perf_counter()
        tasks = []
        for index, turn in enumerate(conversation.turns):
            await asyncio.sleep(max(0.0, start + index * interval - time.perf_counter()))
            task = asyncio.ensure_future(attempt(session, url, sender, turn, timeout))
            if wait:
                await task
            tasks.append(task)
        await asyncio.gather(*tasks)
    return conversation


async def run_async(
    url: str,
    conversation_scripts: Dict[str, List[str]],
    concurrency: int,
    retries: int = 0,
    timeout: float = 120,
    on_turn: Optional[Callable[[int], None]] = None,
    first_client: int = 0,
) -> Result:
    """Every conversation, `concurrency` of them at a time, each from its own address (client_address, numbered from
    `first_client`: runs one after the other can use addresses of their own); `on_turn(n)` after each of the n turns
    answered so far."""
    done = 0

    def count() -> None:
        nonlocal done
        done += 1
        if on_turn is not None:
            on_turn(done)

    queue = list(conversation_scripts.items())
    results: List[Conversation] = []

    async def worker() -> None:
        while queue:
            number = first_client + len(conversation_scripts) - len(queue)
            sender, messages = queue.pop(0)
            async with client_session(url, number) as session:
                results.append(await converse(session, url, sender, messages, retries, timeout, count))

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return Result(results, time.perf_counter() - start)


def run(url: str, conversation_scripts: Dict[str, List[str]], concurrency: int, **kwargs: object) -> Result:
    """run_async() from synchronous code."""
    return asyncio.run(run_async(url, conversation_scripts, concurrency, **kwargs))  # type: ignore[arg-type]


@dataclass
class Fairness:
    """Families' turns in the rounds without and with a flooding client, and the flood's own turns."""
    quiet: List[Turn]
    flooded: List[Turn]
    flood: List[Turn]

    def p95_ms(self, flooded: bool) -> float:
        return percentile([turn.seconds * 1000 for turn in (self.flooded if flooded else self.quiet)], 95)


async def _fairness_round(
    url: str, families: Dict[str, List[str]], flood: Dict[str, List[str]], interval: float
) -> List[Conversation]:
    talks = [paced(url, sender, messages, interval, index) for index, (sender, messages) in enumerate(families.items())]
    talks += [paced(url, sender, messages, interval / 10, 200, wait=False) for sender, messages in flood.items()]
    return list(await asyncio.gather(*talks))


def fairness(url: str, pool: Sequence[str], families: int = 6, seconds: int = 10, interval: float = 1.0,
             rounds: int = 6) -> Fairness:
    """`families` people each send a message every `interval` seconds (waiting for each answer) for `seconds`;
    every other round one more client floods at ten times that rate whatever the answers. Rounds alternate, so the
    flooded and unflooded rounds share the machine's state (used by tests/test_prod.py and the benchmark)."""
    result = Fairness([], [], [])
    for number in range(rounds):
        flooded = number % 2 == 1
        talks = scripts(pool, families, int(seconds / interval), seed=number, prefix=f"fair{number}")
        flood = scripts(pool, 1, int(seconds / interval * 10), seed=number, prefix=f"flood{number}")
        conversations = asyncio.run(_fairness_round(url, talks, flood if flooded else {}, interval))
        turns = [turn for talk in conversations[:families] for turn in talk.turns]
        (result.flooded if flooded else result.quiet).extend(turns)
        result.flood += [turn for talk in conversations[families:] for turn in talk.turns]
    return result
