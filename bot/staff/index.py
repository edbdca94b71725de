"""The per-conversation index (staff_conversations, staff_conversation_intents), derived from Rasa's events.

It holds metadata only (times, counts, escalation level, intent names, the safety net's outcomes), never message
text (nor the phrase the safety net matched), and is brought up to date incrementally before the list and the
dashboard are read. A conversation is everything one sender_id said.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from bot.staff import intents as known
from bot.staff.db import (
    chunks,
    conversation_intents,
    conversations,
    events,
    has_events,
    index_state,
)
from bot.staff.safety_decisions import decision

# Events committed out of id order (concurrent PostgreSQL transactions) are caught by looking back this far.
LOOKBACK = 500
_lock = threading.Lock()


@dataclass
class Summary:
    sender_id: str
    started_at: float = 0.0
    last_at: float = 0.0
    last_event_id: int = 0
    turns: int = 0
    escalation: str = "none"
    fallbacks: int = 0
    low_confidence: int = 0
    intents: Counter = field(default_factory=Counter)
    safety: Counter = field(default_factory=Counter)  # outcome -> messages

    @property
    def topics(self) -> list[str]:
        return [name for name in self.intents if name in known.topic_intents()]

    def row(self) -> dict[str, object]:
        return {
            "sender_id": self.sender_id,
            "started_at": self.started_at,
            "last_at": self.last_at,
            "last_event_id": self.last_event_id,
            "turns": self.turns,
            "escalation": self.escalation,
            "fallbacks": self.fallbacks,
            "low_confidence": self.low_confidence,
            "topics": ",".join(self.topics)[:2000],
            "safety_decisions": sum(self.safety.values()),
            "safety_now": self.safety["now"],
            "safety_not_now": self.safety["not_now"],
            "safety_asked": self.safety["asked"],
        }


def summarize(sender_id: str, rows: Iterable[Sequence], low_confidence: float) -> Summary:
    """One conversation's summary from its event rows (id, type_name, timestamp, intent_name, action_name, data)."""
    summary = Summary(sender_id)
    fallback_turn = False
    for event_id, type_name, timestamp, intent, action, data in rows:
        timestamp = timestamp or 0.0
        summary.started_at = min(summary.started_at or timestamp, timestamp)
        summary.last_at = max(summary.last_at, timestamp)
        summary.last_event_id = max(summary.last_event_id, event_id)
        if type_name == "user":
            summary.turns += 1
            fallback_turn = intent == known.FALLBACK_INTENT
            summary.fallbacks += fallback_turn
            if intent:
                summary.intents[intent] += 1
                summary.escalation = known.higher(summary.escalation, known.escalation_levels().get(intent))
            parse_data = _loads(data).get("parse_data")
            parse_data = parse_data if isinstance(parse_data, dict) else {}
            confidence = _confidence(parse_data)
            if confidence is not None and confidence < low_confidence:
                summary.low_confidence += 1
            safety = decision(parse_data, intent)
            if safety is not None:
                summary.safety[safety.outcome] += 1
        elif type_name == "action" and action in known.FALLBACK_ACTIONS and not fallback_turn:
            fallback_turn = True
            summary.fallbacks += 1
        elif type_name == "slot" and action == known.ESCALATION_SLOT:
            summary.escalation = known.higher(summary.escalation, _loads(data).get("value"))
    return summary


def _loads(data: str) -> dict:
    try:
        value = json.loads(data or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _confidence(parse_data: dict) -> float | None:
    intent = parse_data.get("intent")
    confidence = intent.get("confidence") if isinstance(intent, dict) else None
    return float(confidence) if isinstance(confidence, (int, float)) else None


def refresh(engine: Engine, low_confidence: float) -> int:
    """Bring the index up to date with the events; the number of conversations (re)summarised."""
    if not has_events(engine):
        return 0
    with _lock, engine.begin() as conn:
        cursor = conn.execute(sa.select(index_state.c.last_event_id).where(index_state.c.id == 1)).scalar()
        newest = conn.execute(sa.select(sa.func.max(events.c.id))).scalar() or 0
        if cursor is None:
            conn.execute(index_state.insert().values(id=1, last_event_id=0))
            cursor = 0
        changed = _changed_senders(conn, max(cursor - LOOKBACK, 0))
        for batch in chunks(changed):
            _store(conn, batch, low_confidence)
        if newest != cursor:
            conn.execute(index_state.update().where(index_state.c.id == 1).values(last_event_id=newest))
        return len(changed)


def _changed_senders(conn: Connection, after_id: int) -> list[str]:
    """Senders with events after `after_id` that the index has not seen yet."""
    recent = (
        sa.select(events.c.sender_id, sa.func.max(events.c.id).label("newest"))
        .where(events.c.id > after_id)
        .group_by(events.c.sender_id)
        .subquery()
    )
    query = (
        sa.select(recent.c.sender_id)
        .select_from(recent.outerjoin(conversations, conversations.c.sender_id == recent.c.sender_id))
        .where(sa.or_(conversations.c.last_event_id.is_(None), conversations.c.last_event_id < recent.c.newest))
    )
    return [row[0] for row in conn.execute(query)]


def _store(conn: Connection, senders: list[str], low_confidence: float) -> None:
    query = (
        sa.select(
            events.c.sender_id, events.c.id, events.c.type_name, events.c.timestamp,
            events.c.intent_name, events.c.action_name, events.c.data,
        )
        .where(events.c.sender_id.in_(senders))
        .order_by(events.c.sender_id, events.c.id)
    )
    grouped: dict[str, list[Sequence]] = {}
    for sender_id, *rest in conn.execute(query):
        grouped.setdefault(sender_id, []).append(rest)
    summaries = [summarize(sender, rows, low_confidence) for sender, rows in grouped.items()]
    forget(conn, senders)
    if summaries:
        conn.execute(conversations.insert(), [s.row() for s in summaries])
    intent_rows = [
        {"sender_id": s.sender_id, "intent": name, "count": count}
        for s in summaries
        for name, count in s.intents.items()
    ]
    if intent_rows:
        conn.execute(conversation_intents.insert(), intent_rows)


def forget(conn: Connection, senders: list[str]) -> None:
    """Drop these conversations from the index."""
    conn.execute(conversations.delete().where(conversations.c.sender_id.in_(senders)))
    conn.execute(conversation_intents.delete().where(conversation_intents.c.sender_id.in_(senders)))


def rebuild(engine: Engine, low_confidence: float) -> int:
    """Forget the whole index and build it again (e.g. after changing low_confidence)."""
    with engine.begin() as conn:
        for table in (conversations, conversation_intents, index_state):
            conn.execute(table.delete())
    return refresh(engine, low_confidence)
