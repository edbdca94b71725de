"""What reviewers and admins change: flags, tags, notes, review state, deletion. Each change is audited."""

from __future__ import annotations

import re

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot.staff.audit import record, utcnow
from bot.staff.db import PER_CONVERSATION, chunks, events, flags, notes, reviews, tags

TAG = re.compile(r"^[\w .-]{1,64}$")
MAX_NOTE = 5000


class ChangeError(ValueError):
    """A change that is not allowed (the message explains why, for the reviewer)."""


def flag(engine: Engine, user: str, sender_id: str, event_id: int, predicted: str | None, corrected: str) -> None:
    """Flag a family message as misunderstood, with the intent it should have had (a second flag replaces it)."""
    with engine.begin() as conn:
        conn.execute(flags.delete().where(flags.c.event_id == event_id))
        conn.execute(flags.insert().values(
            sender_id=sender_id, event_id=event_id, predicted_intent=predicted, corrected_intent=corrected,
            flagged_by=user, flagged_at=utcnow(),
        ))
        record(conn, user, "flag", sender_id, f"event {event_id}: {predicted} -> {corrected}")


def unflag(engine: Engine, user: str, sender_id: str, event_id: int) -> None:
    with engine.begin() as conn:
        conn.execute(flags.delete().where(flags.c.event_id == event_id, flags.c.sender_id == sender_id))
        record(conn, user, "unflag", sender_id, f"event {event_id}")


def add_tag(engine: Engine, user: str, sender_id: str, tag: str) -> None:
    tag = tag.strip()
    if not TAG.match(tag):
        raise ChangeError("A tag is 1-64 letters, digits, spaces, dots, dashes or underscores.")
    with engine.begin() as conn:
        exists = conn.execute(sa.select(tags.c.tag).where(tags.c.sender_id == sender_id, tags.c.tag == tag)).first()
        if not exists:
            conn.execute(tags.insert().values(sender_id=sender_id, tag=tag, created_by=user, created_at=utcnow()))
            record(conn, user, "tag", sender_id, tag)


def remove_tag(engine: Engine, user: str, sender_id: str, tag: str) -> None:
    with engine.begin() as conn:
        conn.execute(tags.delete().where(tags.c.sender_id == sender_id, tags.c.tag == tag))
        record(conn, user, "untag", sender_id, tag[:64])


def add_note(engine: Engine, user: str, sender_id: str, body: str) -> None:
    body = body.strip()
    if not body or len(body) > MAX_NOTE:
        raise ChangeError(f"A note is 1-{MAX_NOTE} characters.")
    with engine.begin() as conn:
        note_id = conn.execute(
            notes.insert().values(sender_id=sender_id, author=user, body=body, created_at=utcnow())
        ).inserted_primary_key[0]
        record(conn, user, "note", sender_id, f"note {note_id}")


def set_reviewed(engine: Engine, user: str, sender_id: str, reviewed: bool) -> None:
    with engine.begin() as conn:
        conn.execute(reviews.delete().where(reviews.c.sender_id == sender_id))
        if reviewed:
            conn.execute(reviews.insert().values(sender_id=sender_id, reviewed_by=user, reviewed_at=utcnow()))
        record(conn, user, "reviewed" if reviewed else "unreviewed", sender_id)


def delete_conversations(engine: Engine, user: str, senders: list[str], reason: str) -> int:
    """Delete conversations: their events in Rasa's store and every staff_ row about them (the audit log stays)."""
    deleted = 0
    for batch in chunks(senders):
        with engine.begin() as conn:
            deleted += conn.execute(events.delete().where(events.c.sender_id.in_(batch))).rowcount or 0
            for table in PER_CONVERSATION:
                conn.execute(table.delete().where(table.c.sender_id.in_(batch)))
            if len(senders) == 1:
                record(conn, user, "delete", batch[0], reason)
    if len(senders) > 1:
        with engine.begin() as conn:
            record(conn, user, "delete", None, f"{len(senders)} conversations, {deleted} events: {reason}")
    return deleted
