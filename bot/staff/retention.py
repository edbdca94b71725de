"""python -m bot.staff.retention: delete the conversations whose last message is older than retention_days.

retention_days comes from config/web.yml (env RETENTION_DAYS). Both profiles run it under supervisord as
`--every 86400 --state FILE`: once at start, then once a day; FILE records the last run for the health check.
Deletes the events in Rasa's store and the console's rows about them; the audit log records the count.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import time
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot.staff.changes import delete_conversations
from bot.staff.db import events, has_events

logger = logging.getLogger(__name__)
ACTOR = "system:retention"


def expired_senders(engine: Engine, days: int, now: float | None = None) -> list[str]:
    """Conversations with no event in the last `days` days."""
    if not has_events(engine):
        return []
    cutoff = (now or time.time()) - days * 86400
    query = (
        sa.select(events.c.sender_id)
        .group_by(events.c.sender_id)
        .having(sa.func.max(events.c.timestamp) < cutoff)
    )
    with engine.connect() as conn:
        return [row[0] for row in conn.execute(query)]


def apply(engine: Engine, days: int, now: float | None = None) -> int:
    """Delete the expired conversations; how many were deleted."""
    if days <= 0:
        raise ValueError("retention_days must be at least 1")
    senders = expired_senders(engine, days, now)
    if senders:
        delete_conversations(engine, ACTOR, senders, f"older than {days} days")
    return len(senders)


def main() -> None:
    from bot.staff.config import staff_settings
    from bot.staff.db import engine
    from bot.staff.migrate import upgrade

    settings = staff_settings()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=settings.retention_days, help="default: %(default)s")
    parser.add_argument("--dry-run", action="store_true", help="only count what would be deleted")
    parser.add_argument("--every", type=float, default=0, help="run again every this many seconds (a service)")
    parser.add_argument("--state", type=Path, help="write the last run's outcome here (JSON, for the health check)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")

    def run_once() -> int:
        upgrade(settings.database_url)
        eng = engine(settings.database_url)
        if args.dry_run:
            count = len(expired_senders(eng, args.days))
            logger.info("%d conversations are older than %d days", count, args.days)
            return count
        count = apply(eng, args.days)
        logger.info("deleted %d conversations older than %d days", count, args.days)
        return count

    if not args.every:
        run_once()
        return
    while True:
        # A failed run (database briefly down, a migration running in the web server) is retried soon.
        try:
            outcome = {"ok": True, "deleted": run_once()}
        except Exception as error:
            logger.exception("retention run failed")
            outcome = {"ok": False, "error": type(error).__name__}
        if args.state:
            write_state(args.state, {**outcome, "finished": time.time(), "pid": os.getpid()})
        time.sleep(args.every if outcome["ok"] else min(args.every, RETRY_SECONDS))


RETRY_SECONDS = 15


def write_state(path: Path, state: dict) -> None:
    """Atomically: the health check never reads half a file."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state))
    tmp.replace(path)


if __name__ == "__main__":
    main()
