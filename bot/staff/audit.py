"""The audit log: every view of a conversation and every change, with who and when (never message text)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from bot.staff.config import UTC
from bot.staff.db import audit


def utcnow() -> datetime:
    """Naive UTC, as stored in the staff_ tables."""
    return datetime.now(UTC).replace(tzinfo=None)


def record(conn: Connection, username: str, action: str, sender_id: str | None = None, detail: str = "") -> None:
    """Write one entry inside the caller's transaction."""
    conn.execute(
        audit.insert().values(at=utcnow(), username=username, action=action, sender_id=sender_id, detail=detail[:1000])
    )


def entries(engine: Engine, page: int = 1, size: int = 100, sender_id: str | None = None) -> list[dict[str, Any]]:
    """Newest first."""
    query = sa.select(audit).order_by(audit.c.id.desc()).offset((max(page, 1) - 1) * size).limit(size)
    if sender_id:
        query = query.where(audit.c.sender_id == sender_id)
    with engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(query)]
