"""Reading conversations: the filtered list, one transcript, the flagged messages, the dashboard's figures."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from bot.staff import intents as known
from bot.staff.db import (
    chunks,
    conversation_intents,
    conversations,
    events,
    flags,
    has_events,
    notes,
    reviews,
    tags,
)
from bot.staff.filters import Filters
from bot.staff.safety_decisions import SafetyDecision, decision


@dataclass
class Page:
    rows: list[dict[str, Any]]
    total: int
    number: int
    size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))


def list_page(engine: Engine, filters: Filters, tz: ZoneInfo, number: int = 1, size: int = 50) -> Page:
    """One page of the filtered conversations, newest first."""
    if not has_events(engine):
        return Page([], 0, 1, size)
    where = filters.conditions(tz)
    number = max(1, number)
    with engine.connect() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(conversations).where(*where)).scalar() or 0
        query = _with_review(sa.select(conversations), where).offset((number - 1) * size).limit(size)
        rows = [dict(row._mapping) for row in conn.execute(query)]
        _add_tags(conn, rows)
    return Page(rows, total, number, size)


def iter_filtered(engine: Engine, filters: Filters, tz: ZoneInfo, limit: int) -> Iterator[dict[str, Any]]:
    """The filtered conversations, newest first, at most `limit`, with their tags (for exports)."""
    if not has_events(engine):
        return
    with engine.connect() as conn:
        query = _with_review(sa.select(conversations), filters.conditions(tz)).limit(limit)
        rows = [dict(r._mapping) for r in conn.execute(query)]
        _add_tags(conn, rows)
    yield from rows


def _with_review(query: sa.sql.Select, where: list[Any]) -> sa.sql.Select:
    return (
        query.add_columns(reviews.c.reviewed_by, reviews.c.reviewed_at)
        .select_from(conversations.outerjoin(reviews, reviews.c.sender_id == conversations.c.sender_id))
        .where(*where)
        .order_by(conversations.c.started_at.desc(), conversations.c.sender_id)
    )


def _add_tags(conn: Connection, rows: list[dict[str, Any]]) -> None:
    by_sender: dict[str, list[str]] = defaultdict(list)
    senders = [row["sender_id"] for row in rows]
    for start in range(0, len(senders), 500):
        query = sa.select(tags.c.sender_id, tags.c.tag).where(tags.c.sender_id.in_(senders[start:start + 500]))
        for sender_id, tag in conn.execute(query.order_by(tags.c.tag)):
            by_sender[sender_id].append(tag)
    for row in rows:
        row["tags"] = by_sender.get(row["sender_id"], [])
        row["topics"] = [t for t in (row.get("topics") or "").split(",") if t]


def conversation(engine: Engine, sender_id: str) -> dict[str, Any] | None:
    """The index row of one conversation with its review, tags, notes and flags; None if unknown."""
    with engine.connect() as conn:
        row = conn.execute(_with_review(sa.select(conversations), [conversations.c.sender_id == sender_id])).first()
        if row is None:
            return None
        result = dict(row._mapping)
        _add_tags(conn, [result])
        result["notes"] = [dict(r._mapping) for r in conn.execute(
            sa.select(notes).where(notes.c.sender_id == sender_id).order_by(notes.c.created_at, notes.c.id)
        )]
        result["flags"] = {r.event_id: dict(r._mapping) for r in conn.execute(
            sa.select(flags).where(flags.c.sender_id == sender_id)
        )}
    return result


TRANSCRIPT_EVENTS = ("user", "bot", "slot", "session_started", "action")


@dataclass
class Message:
    event_id: int
    role: str  # "user" | "bot" | "escalation" | "session"
    timestamp: float
    text: str = ""
    intent: str | None = None
    confidence: float | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    safety: SafetyDecision | None = None
    buttons: list[str] = field(default_factory=list)
    escalation: str | None = None
    fallback: bool = False
    staff: str = ""  # a live hand-off's message or notice (bot.staff.live): the staff member's name


def transcript(engine: Engine, sender_id: str) -> list[Message]:
    """The conversation's messages in order: family messages, bot answers, escalation marks, session starts."""
    return transcripts(engine, [sender_id]).get(sender_id, [])


def transcripts(engine: Engine, senders: list[str]) -> dict[str, list[Message]]:
    """The messages of several conversations, read in batches."""
    result: dict[str, list[Message]] = defaultdict(list)
    last_user: dict[str, Message] = {}
    with engine.connect() as conn:
        for batch in chunks(senders):
            query = (
                sa.select(events.c.sender_id, events.c.id, events.c.type_name, events.c.timestamp,
                          events.c.action_name, events.c.data)
                .where(events.c.sender_id.in_(batch), events.c.type_name.in_(TRANSCRIPT_EVENTS))
                .order_by(events.c.sender_id, events.c.id)
            )
            for sender_id, event_id, type_name, timestamp, action, data in conn.execute(query):
                if type_name == "action":
                    if sender_id in last_user and action in known.FALLBACK_ACTIONS:
                        last_user[sender_id].fallback = True
                    continue
                message = _message(event_id, type_name, timestamp, action, data)
                if message is not None:
                    result[sender_id].append(message)
                    if message.role == "user":
                        last_user[sender_id] = message
    return result


def _message(event_id: int, type_name: str, timestamp: float, action: str | None, data: str) -> Message | None:
    if type_name == "slot" and action != known.ESCALATION_SLOT:
        return None
    event = json.loads(data or "{}")
    if type_name == "session_started":
        return Message(event_id, "session", timestamp or 0.0)
    if type_name == "slot":
        value = event.get("value")
        return Message(event_id, "escalation", timestamp or 0.0, escalation=value) if value else None
    if type_name == "bot":
        buttons = [b.get("title", "") for b in (event.get("data") or {}).get("buttons") or []]
        live = ((event.get("metadata") or {}).get("live_chat") or {})
        staff = f"{live.get('name')} (staff)" if live.get("kind") in ("staff", "joined", "left") else ""
        return Message(event_id, "bot", timestamp or 0.0, text=event.get("text") or "", buttons=buttons, staff=staff)
    parse = event.get("parse_data") or {}
    intent = parse.get("intent") or {}
    return Message(
        event_id,
        "user",
        timestamp or 0.0,
        text=event.get("text") or "",
        intent=intent.get("name"),
        confidence=intent.get("confidence"),
        entities=[_entity(e) for e in parse.get("entities") or []],
        safety=decision(parse, intent.get("name")),
        escalation=known.escalation_levels().get(intent.get("name") or ""),
        fallback=intent.get("name") == known.FALLBACK_INTENT,
    )


def _entity(entity: dict[str, Any]) -> dict[str, Any]:
    return {"entity": entity.get("entity"), "value": entity.get("value"), "extractor": entity.get("extractor")}


def user_message(engine: Engine, sender_id: str, event_id: int) -> Message | None:
    """One family message of this conversation, or None."""
    query = sa.select(events.c.id, events.c.type_name, events.c.timestamp, events.c.action_name, events.c.data).where(
        events.c.id == event_id, events.c.sender_id == sender_id, events.c.type_name == "user"
    )
    with engine.connect() as conn:
        row = conn.execute(query).first()
    return _message(*row) if row else None


def flagged_examples(engine: Engine) -> list[tuple[str, str]]:
    """(corrected intent, message text) of every flagged message, read from the events (no copy is kept)."""
    query = (
        sa.select(flags.c.corrected_intent, events.c.data)
        .select_from(flags.join(events, events.c.id == flags.c.event_id))
        .order_by(flags.c.corrected_intent, flags.c.id)
    )
    with engine.connect() as conn:
        return [(intent, json.loads(data or "{}").get("text") or "") for intent, data in conn.execute(query)]


def flags_by_event(engine: Engine, senders: list[str]) -> dict[int, str]:
    """event id -> corrected intent, for the flagged messages of these conversations."""
    result: dict[int, str] = {}
    with engine.connect() as conn:
        for batch in chunks(senders):
            query = sa.select(flags.c.event_id, flags.c.corrected_intent).where(flags.c.sender_id.in_(batch))
            result.update({event_id: intent for event_id, intent in conn.execute(query)})
    return result


def flag_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(flags)).scalar() or 0


def known_tags(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return [r[0] for r in conn.execute(sa.select(tags.c.tag).distinct().order_by(tags.c.tag))]


def dashboard(engine: Engine, tz: ZoneInfo, since: float) -> dict[str, Any]:
    """Per-day conversations, escalations by level and fallback rate, and the top topics, since `since`."""
    per_day: dict[str, Counter] = defaultdict(Counter)
    with engine.connect() as conn:
        query = sa.select(
            conversations.c.started_at, conversations.c.escalation, conversations.c.turns, conversations.c.fallbacks
        ).where(conversations.c.started_at >= since)
        for started_at, escalation, turns, fallbacks in conn.execute(query):
            day = datetime.fromtimestamp(started_at, tz).date().isoformat()
            per_day[day].update(conversations=1, turns=turns, fallbacks=fallbacks, **{escalation: 1})
        ci = conversation_intents.c
        topics = conn.execute(
            sa.select(ci.intent, sa.func.count().label("n"))
            .select_from(conversation_intents.join(conversations, conversations.c.sender_id == ci.sender_id))
            .where(conversations.c.started_at >= since, ci.intent.in_(sorted(known.topic_intents())))
            .group_by(ci.intent)
            .order_by(sa.desc("n"), ci.intent)
            .limit(10)
        ).all()
    days = sorted(per_day)
    return {
        "days": days,
        "conversations": [per_day[d]["conversations"] for d in days],
        "emergency": [per_day[d]["emergency"] for d in days],
        "professional": [per_day[d]["professional"] for d in days],
        "fallback_rate": [
            round(100 * per_day[d]["fallbacks"] / per_day[d]["turns"], 1) if per_day[d]["turns"] else 0 for d in days
        ],
        "topics": [{"intent": name, "conversations": n} for name, n in topics],
        "total": sum(per_day[d]["conversations"] for d in days),
    }
