"""The conversation list's filters: parsed and validated from the query string, turned into SQL conditions.

Every value reaches the database as a bound parameter; an invalid value is dropped, never interpolated.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from bot.staff.db import (
    conversation_intents,
    conversations,
    events,
    json_text,
    reviews,
    tags,
)

ESCALATIONS = ("emergency", "professional", "any", "none")
SAFETY = ("any", "now", "not_now", "asked")  # a message with a safety net decision: any, or with this outcome
REVIEWED = ("yes", "no")
MAX_TEXT = 200
ESCAPE = "!"  # LIKE escape character (not a backslash: dialects quote backslashes differently)


@dataclass(frozen=True)
class Filters:
    date_from: date | None = None
    date_to: date | None = None
    escalation: str = ""
    safety: str = ""
    intent: str = ""
    low_confidence: bool = False
    reviewed: str = ""
    tag: str = ""
    q: str = ""

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> Filters:
        return cls(
            date_from=_date(args.get("from")),
            date_to=_date(args.get("to")),
            escalation=_choice(args.get("escalation"), ESCALATIONS),
            safety=_choice(args.get("safety"), SAFETY),
            intent=_text(args.get("intent")),
            low_confidence=args.get("low") in ("1", "on", "true"),
            reviewed=_choice(args.get("reviewed"), REVIEWED),
            tag=_text(args.get("tag")),
            q=_text(args.get("q")),
        )

    def args(self) -> dict[str, str]:
        """The query-string form of the active filters (for links and exports)."""
        names = {"date_from": "from", "date_to": "to", "low_confidence": "low"}
        out = {}
        for key, value in asdict(self).items():
            if value:
                out[names.get(key, key)] = "1" if value is True else str(value)
        return out

    def describe(self) -> str:
        """A short description for the audit log (no free text beyond what staff typed as a filter)."""
        return " ".join(f"{key}={value}" for key, value in self.args().items()) or "all"

    def conditions(self, tz: ZoneInfo) -> list[Any]:
        c = conversations.c
        where: list[Any] = []
        if self.date_from:
            where.append(c.started_at >= _epoch(self.date_from, tz))
        if self.date_to:
            where.append(c.started_at < _epoch(self.date_to + timedelta(days=1), tz))
        if self.escalation == "any":
            where.append(c.escalation != "none")
        elif self.escalation:
            where.append(c.escalation == self.escalation)
        if self.safety:
            where.append(getattr(c, "safety_decisions" if self.safety == "any" else f"safety_{self.safety}") > 0)
        if self.intent:
            where.append(
                sa.exists().where(
                    conversation_intents.c.sender_id == c.sender_id, conversation_intents.c.intent == self.intent
                )
            )
        if self.low_confidence:
            where.append(sa.or_(c.fallbacks > 0, c.low_confidence > 0))
        if self.reviewed:
            review = reviews.alias("review")  # the list query joins `reviews` itself
            reviewed = sa.exists().where(review.c.sender_id == c.sender_id)
            where.append(reviewed if self.reviewed == "yes" else ~reviewed)
        if self.tag:
            where.append(sa.exists().where(tags.c.sender_id == c.sender_id, tags.c.tag == self.tag))
        if self.q:
            where.append(
                sa.exists().where(
                    events.c.sender_id == c.sender_id,
                    events.c.type_name == "user",
                    sa.func.lower(json_text(events.c.data, sa.literal("text"))).like(_contains(self.q), escape=ESCAPE),
                )
            )
        return where


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _choice(value: str | None, allowed: tuple) -> str:
    return value if value in allowed else ""


def _text(value: str | None) -> str:
    return (value or "").strip()[:MAX_TEXT]


def _epoch(day: date, tz: ZoneInfo) -> float:
    return datetime.combine(day, time.min, tzinfo=tz).timestamp()


def _contains(text: str) -> str:
    """A LIKE pattern matching `text` literally anywhere (case-insensitive with lower())."""
    escaped = text.lower().replace(ESCAPE, ESCAPE * 2).replace("%", ESCAPE + "%").replace("_", ESCAPE + "_")
    return f"%{escaped}%"
