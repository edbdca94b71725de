"""python -m tools.staff_bench: time the conversation list on a large store.

Clones the real conversations of a source store (e.g. var/conversations.db after `make run`, or the test store) into
a new SQLite file under new sender ids and start times spread over the last N days, then times building the index,
the first page of the list and filtered queries. Example:

  python -m tools.staff_bench --source var/conversations.db --target /tmp/bench.db --conversations 10000
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

from bot.staff import index, queries
from bot.staff.config import UTC
from bot.staff.db import engine, events, rasa_metadata
from bot.staff.filters import Filters
from bot.staff.migrate import upgrade

QUERIES: dict[str, dict[str, str]] = {
    "list, first page": {},
    "list, page 100": {"page": "100"},
    "escalation = emergency": {"escalation": "emergency"},
    "intent = ask_withdrawal_symptoms": {"intent": "ask_withdrawal_symptoms"},
    "low confidence or fallback, not reviewed": {"low": "1", "reviewed": "no"},
    "date range (7 days) + any escalation": {"from": "DAYS_AGO_7", "escalation": "any"},
    "free-text search 'xanax'": {"q": "xanax"},
}


def clone(source_url: str, target_url: str, count: int, days: int = 90, seed: int = 7) -> int:
    """Fill target's events table with `count` copies of the source's conversations; the number of events."""
    with engine(source_url).connect() as conn:
        rows = conn.execute(sa.select(events).order_by(events.c.sender_id, events.c.id)).all()
    templates: dict[str, list] = {}
    for row in rows:
        templates.setdefault(row.sender_id, []).append(row)
    if not templates:
        raise SystemExit("the source store has no conversations: chat with the bot or run the tests first")
    target = engine(target_url)
    rasa_metadata.create_all(target)
    rng = random.Random(seed)
    now = time.time()
    written = 0
    batch: list[dict] = []
    originals = list(templates.values())
    for number in range(count):
        template = originals[number % len(originals)]
        shift = now - rng.uniform(0, days * 86400) - (template[0].timestamp or 0)
        sender = f"bench-{number:05d}-{uuid.UUID(int=rng.getrandbits(128)).hex[:8]}"
        batch += [
            {"sender_id": sender, "type_name": e.type_name, "timestamp": (e.timestamp or 0) + shift,
             "intent_name": e.intent_name, "action_name": e.action_name, "data": e.data}
            for e in template
        ]
        if len(batch) >= 20000:
            written += _insert(target, batch)
            batch = []
    return written + _insert(target, batch)


def _insert(target: sa.engine.Engine, batch: list[dict]) -> int:
    if batch:
        with target.begin() as conn:
            conn.execute(events.insert(), batch)
    return len(batch)


def _timed(action: Callable[[], object], repeats: int) -> float:
    """Median wall time in milliseconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def measure(url: str, low_confidence: float = 0.7, repeats: int = 5, page_size: int = 50) -> dict[str, float]:
    """Milliseconds: the index build, then each query of QUERIES (refresh + count + page), median of `repeats`."""
    upgrade(url)
    eng = engine(url)
    results = {"index build (first visit)": _timed(lambda: index.rebuild(eng, low_confidence), 1)}
    week_ago = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 7 * 86400))
    for name, args in QUERIES.items():
        args = {k: (week_ago if v == "DAYS_AGO_7" else v) for k, v in args.items()}
        filters = Filters.from_args(args)
        number = int(args.get("page", "1"))

        def run(filters: Filters = filters, number: int = number) -> object:
            index.refresh(eng, low_confidence)
            return queries.list_page(eng, filters, UTC, number, page_size)

        results[name] = _timed(run, repeats)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", default="var/conversations.db", help="SQLite file with real conversations")
    parser.add_argument("--target", default="var/bench.db", help="SQLite file to create (must not exist)")
    parser.add_argument("--conversations", type=int, default=10000)
    parser.add_argument("--days", type=int, default=90)
    args = parser.parse_args()
    if Path(args.target).exists():
        raise SystemExit(f"{args.target} exists; remove it or choose another --target")
    started = time.perf_counter()
    written = clone(f"sqlite:///{Path(args.source).resolve()}", f"sqlite:///{Path(args.target).resolve()}",
                    args.conversations, args.days)
    print(f"cloned {args.conversations} conversations ({written} events) in {time.perf_counter() - started:.1f} s")
    for name, ms in measure(f"sqlite:///{Path(args.target).resolve()}").items():
        print(f"{ms:9.1f} ms  {name}")


if __name__ == "__main__":
    main()
