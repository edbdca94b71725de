"""Database access: the engine, Rasa's `events` table (read only, except deletion) and the console's staff_ tables.

The staff_ tables are created and upgraded by the Alembic migrations in bot/staff/migrations; the definitions here
describe the current schema for queries and must match the latest migration (tests/test_staff_unit.py checks it).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement

# Rasa's SQL tracker store (rasa.core.tracker_store.SQLTrackerStore.SQLEvent); Rasa creates it.
rasa_metadata = sa.MetaData()
events = sa.Table(
    "events",
    rasa_metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sender_id", sa.String(255), nullable=False, index=True),
    sa.Column("type_name", sa.String(255), nullable=False),
    sa.Column("timestamp", sa.Float),
    sa.Column("intent_name", sa.String(255)),
    sa.Column("action_name", sa.String(255)),
    sa.Column("data", sa.Text),
)

metadata = sa.MetaData()
SENDER = sa.String(255)

users = sa.Table(
    "staff_users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, default=True),
    sa.Column("failed_logins", sa.Integer, nullable=False, default=0),
    sa.Column("locked_until", sa.DateTime),
    sa.Column("session_version", sa.Integer, nullable=False, default=1),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("last_login_at", sa.DateTime),
)

# Derived from `events` by bot.staff.index (metadata only, never message text); rebuilt at will.
conversations = sa.Table(
    "staff_conversations",
    metadata,
    sa.Column("sender_id", SENDER, primary_key=True),
    sa.Column("started_at", sa.Float, nullable=False, index=True),
    sa.Column("last_at", sa.Float, nullable=False),
    sa.Column("last_event_id", sa.Integer, nullable=False),
    sa.Column("turns", sa.Integer, nullable=False),
    sa.Column("escalation", sa.String(16), nullable=False, index=True),
    sa.Column("fallbacks", sa.Integer, nullable=False),
    sa.Column("low_confidence", sa.Integer, nullable=False),
    sa.Column("topics", sa.String(2000), nullable=False),
    # the safety net's decisions on its messages: all, and by outcome (bot.staff.safety_decisions)
    sa.Column("safety_decisions", sa.Integer, nullable=False, server_default="0"),
    sa.Column("safety_now", sa.Integer, nullable=False, server_default="0"),
    sa.Column("safety_not_now", sa.Integer, nullable=False, server_default="0"),
    sa.Column("safety_asked", sa.Integer, nullable=False, server_default="0"),
)

conversation_intents = sa.Table(
    "staff_conversation_intents",
    metadata,
    sa.Column("sender_id", SENDER, primary_key=True),
    sa.Column("intent", sa.String(255), primary_key=True, index=True),
    sa.Column("count", sa.Integer, nullable=False),
)

index_state = sa.Table(
    "staff_index_state",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("last_event_id", sa.Integer, nullable=False),
)

flags = sa.Table(
    "staff_flags",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sender_id", SENDER, nullable=False, index=True),
    sa.Column("event_id", sa.Integer, nullable=False, unique=True),
    sa.Column("predicted_intent", sa.String(255)),
    sa.Column("corrected_intent", sa.String(255), nullable=False),
    sa.Column("flagged_by", sa.String(64), nullable=False),
    sa.Column("flagged_at", sa.DateTime, nullable=False),
)

tags = sa.Table(
    "staff_tags",
    metadata,
    sa.Column("sender_id", SENDER, primary_key=True),
    sa.Column("tag", sa.String(64), primary_key=True, index=True),
    sa.Column("created_by", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
)

notes = sa.Table(
    "staff_notes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sender_id", SENDER, nullable=False, index=True),
    sa.Column("author", sa.String(64), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
)

reviews = sa.Table(
    "staff_reviews",
    metadata,
    sa.Column("sender_id", SENDER, primary_key=True),
    sa.Column("reviewed_by", sa.String(64), nullable=False),
    sa.Column("reviewed_at", sa.DateTime, nullable=False),
)

audit = sa.Table(
    "staff_audit",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", sa.DateTime, nullable=False, index=True),
    sa.Column("username", sa.String(64), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("sender_id", SENDER, index=True),
    sa.Column("detail", sa.String(1000), nullable=False, default=""),
)

# Escalations that need a person (bot.staff.alerts): one row per alert; the message it quotes stays in `events`
# (event_id), already redacted by the tracker store, and is never copied here.
alerts = sa.Table(
    "staff_alerts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sender_id", SENDER, nullable=False, index=True),
    sa.Column("level", sa.String(16), nullable=False),  # "emergency" | "person"
    sa.Column("event_id", sa.Integer, nullable=False),  # the family's message that escalated
    sa.Column("message_at", sa.Float, nullable=False),  # its time (epoch, as in `events`)
    sa.Column("created_at", sa.DateTime, nullable=False, index=True),
    sa.Column("handled_by", sa.String(64)),
    sa.Column("handled_at", sa.DateTime),
)

# One row per alert and channel ("webhook" | "email"): "pending", "retrying" (failed, tried again at next_at),
# "delivered", or "failed" (gave up after the configured attempts).
alert_deliveries = sa.Table(
    "staff_alert_deliveries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("alert_id", sa.Integer, nullable=False, index=True),
    sa.Column("sender_id", SENDER, nullable=False, index=True),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_at", sa.DateTime, nullable=False),
    sa.Column("last_error", sa.String(255), nullable=False),
    sa.Column("delivered_at", sa.DateTime),
)

alert_state = sa.Table(
    "staff_alert_state",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("last_event_id", sa.Integer, nullable=False),
)

# Live hand-off (bot.staff.live): a family's request to chat with a person. status: "waiting" (in the live queue
# until `deadline`), "active" (taken_by has the conversation; Rasa's tracker is paused), "ended" (handed back),
# "expired" (nobody took it in time). The messages are in Rasa's tracker, never here.
live_chats = sa.Table(
    "staff_live_chats",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sender_id", SENDER, nullable=False, index=True),
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("requested_at", sa.DateTime, nullable=False),
    sa.Column("deadline", sa.DateTime, nullable=False),
    sa.Column("taken_by", sa.String(64)),
    sa.Column("agent_name", sa.String(64)),
    sa.Column("taken_at", sa.DateTime),
    sa.Column("ended_at", sa.DateTime),
    sa.Column("ended_by", sa.String(64)),
    sa.Column("last_staff_at", sa.DateTime),  # taken over, or the staff member's last message (idle hand-back)
)

# Per-conversation rows of the console, deleted with the conversation (the audit log is kept).
PER_CONVERSATION = (conversations, conversation_intents, flags, tags, notes, reviews, alerts, alert_deliveries,
                    live_chats)


@functools.cache
def engine(url: str) -> Engine:
    """One pooled engine per database URL."""
    kwargs: dict = {"future": True, "pool_pre_ping": True}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
    return sa.create_engine(url, **kwargs)


def has_events(eng: Engine) -> bool:
    """Rasa creates `events` when it first starts; until then the console shows an empty store."""
    return sa.inspect(eng).has_table("events")


def chunks(items: Iterable[Any], size: int = 500) -> Iterable[list[Any]]:
    """Lists of at most `size` items (keeps IN (...) parameter lists short)."""
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


class json_text(FunctionElement):
    """A top-level string field of a JSON text column: json_extract on SQLite, ->> on PostgreSQL."""

    type = sa.Text()
    inherit_cache = True
    name = "json_text"


@compiles(json_text, "sqlite")
def _json_text_sqlite(element: json_text, compiler: Any, **kw: Any) -> str:
    column, key = list(element.clauses)
    return f"json_extract({compiler.process(column, **kw)}, '$.' || {compiler.process(key, **kw)})"


@compiles(json_text)
def _json_text_default(element: json_text, compiler: Any, **kw: Any) -> str:
    column, key = list(element.clauses)
    return f"(CAST({compiler.process(column, **kw)} AS JSON) ->> {compiler.process(key, **kw)})"
