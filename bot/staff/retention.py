"""python -m bot.staff.retention: delete the conversations whose last message is older than retention_days.

retention_days comes from config/web.yml (env RETENTION_DAYS); scripts/run.sh runs this once a day.
Deletes the events in Rasa's store and the console's rows about them; the audit log records the count.
"""

from __future__ import annotations

import argparse
import logging
import time

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
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    upgrade(settings.database_url)
    eng = engine(settings.database_url)
    if args.dry_run:
        logger.info("%d conversations are older than %d days", len(expired_senders(eng, args.days)), args.days)
        return
    logger.info("deleted %d conversations older than %d days", apply(eng, args.days), args.days)


if __name__ == "__main__":
    main()
