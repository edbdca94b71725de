"""Live hand-off: a family asks for a person, a staff member takes the conversation over from the console, and hands
it back to the assistant (README, "Live hand-off"; settings in bot.core.live_chat).

Where things are kept:
- the queue and who has which conversation: staff_live_chats (bot.staff.db.live_chats);
- everything said: Rasa's tracker, through Rasa's HTTP API (`POST /conversations/{id}/tracker/events`): a
  `pause` event when a person takes over (Rasa then runs no policy on the family's messages), the staff member's
  messages as `bot` events whose metadata is {"live_chat": {"kind": "staff", "staff": username, "name": shown name}},
  the "has joined" / "has left" notices likewise (kinds "joined", "left"), what the assistant itself answered while
  paused (an emergency answer, kind "assistant"; bot.web.live.after_turn), the helpline a family got when nobody
  took the request in time (kind "timed_out"), and `resume` when the assistant takes over again. One transcript
  says who said what, in order, and retention deletes it with the rest of the conversation.
Message text is never logged, nor written to the audit log.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import requests
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot.core import live_chat
from bot.core.live_chat import LiveChat
from bot.core.settings import project_path
from bot.staff import alerts as alert_rows
from bot.staff.audit import record, utcnow
from bot.staff.db import alerts, events, has_events, live_chats

logger = logging.getLogger(__name__)

WAITING, ACTIVE, ENDED, EXPIRED = "waiting", "active", "ended", "expired"
OPEN = (WAITING, ACTIVE)
# kinds of the live chat's bot events; the family's widget fetches these (the others it got in its turn's answer)
TO_FAMILY = ("joined", "staff", "left")
MAX_STAFF_MESSAGE = 2000
MAX_NAME = 64
CONTEXT_EVENTS = 30  # the family's and the assistant's last messages shown to staff when they open a conversation


class LiveChatError(Exception):
    """A hand-off step that cannot be done now (the message is safe to show to staff)."""


# ------------------------------------------------------------------------------------------------ Rasa's HTTP API
@dataclass(frozen=True)
class RasaApi:
    """The Rasa servers' HTTP API (started with --enable-api --auth-token); any of them can append to a conversation
    (they share the tracker store and, in production, the lock store), so each is tried in turn."""

    urls: tuple[str, ...]
    token: str
    timeout: float = 5

    def append(self, sender_id: str, new_events: list[dict[str, Any]]) -> None:
        if not self.token:
            raise LiveChatError("The assistant's API token is not set (README, \"Live hand-off\").")
        path = f"/conversations/{quote(sender_id, safe='')}/tracker/events"
        failure = "no Rasa API address"
        for url in self.urls:
            try:
                answer = requests.post(url.rstrip("/") + path, params={"token": self.token, "include_events": "NONE"},
                                       json=new_events, timeout=self.timeout)
            except requests.RequestException as error:
                failure = type(error).__name__
                continue
            if answer.status_code < 300:
                return
            failure = f"HTTP {answer.status_code}"
        logger.warning("live chat: Rasa's API refused or unreachable (%s)", failure)
        raise LiveChatError(f"The assistant's server could not be reached ({failure}); nothing was changed.")


def rasa_api(web: dict[str, Any]) -> RasaApi:
    """From the web server's settings: rasa_api_urls (RASA_API_URLS; empty: rasa_url) and the token (RASA_TOKEN, else
    rasa_token_file)."""
    import os

    urls = tuple(web.get("rasa_api_urls") or ()) or (str(web["rasa_url"]),)
    token = os.environ.get("RASA_TOKEN", "").strip()
    if not token and web.get("rasa_token_file"):
        path = project_path(str(web["rasa_token_file"]))
        token = path.read_text().strip() if path.exists() else ""
    return RasaApi(urls, token)


def bot_event(text: str, kind: str, **who: str) -> dict[str, Any]:
    return {"event": "bot", "text": text, "timestamp": time.time(), "metadata": {"live_chat": {"kind": kind, **who}}}


# --------------------------------------------------------------------------------------------------------- the queue
def _latest(conn: Any, sender_id: str) -> dict[str, Any] | None:
    row = conn.execute(sa.select(live_chats).where(live_chats.c.sender_id == sender_id)
                       .order_by(live_chats.c.id.desc()).limit(1)).first()
    return dict(row._mapping) if row else None


def latest(engine: Engine, sender_id: str) -> dict[str, Any] | None:
    """The conversation's most recent hand-off request, whatever its state."""
    with engine.connect() as conn:
        return _latest(conn, sender_id)


def is_active(engine: Engine, sender_id: str) -> bool:
    row = latest(engine, sender_id)
    return bool(row and row["status"] == ACTIVE)


def last_event_id(engine: Engine, sender_id: str) -> int:
    if not has_events(engine):
        return 0
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.max(events.c.id)).where(events.c.sender_id == sender_id)).scalar() or 0


def request(engine: Engine, live: LiveChat, sender_id: str, now: datetime | None = None) -> dict[str, Any] | None:
    """Put the conversation in the live queue; its open request if it has one already; None outside staffed hours."""
    now = now or utcnow()
    with engine.begin() as conn:
        row = _latest(conn, sender_id)
        if row and row["status"] in OPEN:
            return row
        if not live.staffed():
            return None
        conn.execute(live_chats.insert().values(
            sender_id=sender_id, status=WAITING, requested_at=now,
            deadline=now + timedelta(minutes=live.wait_minutes)))
        return _latest(conn, sender_id)


def expire_overdue(engine: Engine, live: LiveChat, api: RasaApi | None, now: datetime | None = None) -> list[str]:
    """Requests nobody took by their deadline: "expired", and the fallback (helpline, contact) written to their
    tracker so the transcript shows what the family got (the family's widget gets it from its poll). And taken
    conversations whose staff member wrote nothing for idle_minutes: handed back to the assistant."""
    now = now or utcnow()
    if api is not None:
        _hand_back_idle(engine, api, live, now)
    with engine.begin() as conn:
        overdue = conn.execute(sa.select(live_chats.c.id, live_chats.c.sender_id).where(
            live_chats.c.status == WAITING, live_chats.c.deadline <= now)).all()
        expired = []
        for row_id, sender_id in overdue:
            done = conn.execute(live_chats.update().where(live_chats.c.id == row_id, live_chats.c.status == WAITING)
                                .values(status=EXPIRED, ended_at=now)).rowcount
            if done:
                expired.append(sender_id)
                record(conn, "-", "live_expired", sender_id, f"nobody took it within {live.wait_minutes:g} minutes")
    for sender_id in expired:
        if api is not None:
            try:
                api.append(sender_id, [bot_event(text, "timed_out") for text in live_chat.fallback(live, "timed_out")])
            except LiveChatError:
                pass  # the family still gets it from the poll; the transcript lacks it (logged in append)
    return expired


def queue(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    """Waiting requests (oldest first, with the family's last message as stored: redacted) and active chats."""
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(
            sa.select(live_chats).where(live_chats.c.status.in_(OPEN)).order_by(live_chats.c.id))]
        for row in rows:
            data = conn.execute(sa.select(events.c.data).where(
                events.c.sender_id == row["sender_id"], events.c.type_name == "user",
            ).order_by(events.c.id.desc()).limit(1)).scalar() if has_events(engine) else None
            row["quote"] = alert_rows.quote(data)
    return {"waiting": [r for r in rows if r["status"] == WAITING],
            "active": [r for r in rows if r["status"] == ACTIVE]}


def waiting_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(live_chats).where(
            live_chats.c.status == WAITING)).scalar() or 0


def _hand_back_idle(engine: Engine, api: RasaApi, live: LiveChat, now: datetime) -> None:
    with engine.connect() as conn:
        idle = [dict(r._mapping) for r in conn.execute(sa.select(live_chats).where(
            live_chats.c.status == ACTIVE, live_chats.c.last_staff_at <= now - timedelta(minutes=live.idle_minutes)))]
    for row in idle:
        name = row["agent_name"] or row["taken_by"]
        with engine.begin() as conn:  # claim it first: one poll hands it back
            claimed = conn.execute(live_chats.update().where(
                live_chats.c.id == row["id"], live_chats.c.status == ACTIVE,
            ).values(status=ENDED, ended_at=now, ended_by="-")).rowcount
        if not claimed:
            continue
        try:
            api.append(row["sender_id"], [bot_event(live.text("left", name=name), "left", staff=row["taken_by"],
                                                    name=name), {"event": "resume", "timestamp": time.time()}])
        except LiveChatError:
            with engine.begin() as conn:  # still paused: try again at the next poll
                conn.execute(live_chats.update().where(live_chats.c.id == row["id"]).values(
                    status=ACTIVE, ended_at=None, ended_by=None))
            continue
        with engine.begin() as conn:
            record(conn, "-", "live_idle_hand_back", row["sender_id"],
                   f"{row['taken_by']} wrote nothing for {live.idle_minutes:g} minutes")


# ------------------------------------------------------------------------------------------------ staff's actions
def take(engine: Engine, api: RasaApi, live: LiveChat, sender_id: str, user: str, name: str) -> None:
    """Take a waiting conversation over: pause the assistant and tell the family who joined (audited). Only one staff
    member can win a request: the row changes from waiting to active in one statement."""
    name = " ".join(name.split())[:MAX_NAME] or user
    now = utcnow()
    with engine.begin() as conn:
        row = _latest(conn, sender_id)
        if row is None or row["status"] != WAITING:
            raise LiveChatError("This conversation is not waiting for a person any more.")
        if row["deadline"] <= now:
            raise LiveChatError("Nobody took this conversation in time: the family was given the helpline.")
        taken = conn.execute(live_chats.update().where(live_chats.c.id == row["id"], live_chats.c.status == WAITING)
                             .values(status=ACTIVE, taken_by=user, agent_name=name, taken_at=now,
                                     last_staff_at=now)).rowcount
        if not taken:
            raise LiveChatError("Someone else has just taken this conversation.")
    try:
        api.append(sender_id, [{"event": "pause", "timestamp": time.time()},
                               bot_event(live.text("joined", name=name), "joined", staff=user, name=name)])
    except LiveChatError:
        with engine.begin() as conn:
            conn.execute(live_chats.update().where(live_chats.c.id == row["id"]).values(
                status=WAITING, taken_by=None, agent_name=None, taken_at=None))
        raise
    with engine.begin() as conn:
        record(conn, user, "live_take_over", sender_id, f"shown to the family as {name}")
        conn.execute(alerts.update().where(  # the "asked for a person" alert is answered by this
            alerts.c.sender_id == sender_id, alerts.c.level == alert_rows.PERSON, alerts.c.handled_at.is_(None),
        ).values(handled_by=user, handled_at=now))


def _active_for(conn: Any, sender_id: str, user: str, role: str) -> dict[str, Any]:
    row = _latest(conn, sender_id)
    if row is None or row["status"] != ACTIVE:
        raise LiveChatError("No one has this conversation now.")
    if row["taken_by"] != user and role != "admin":
        raise LiveChatError(f"{row['taken_by']} has this conversation.")
    return row


def send(engine: Engine, api: RasaApi, sender_id: str, user: str, role: str, text: str) -> None:
    """A staff member's message to the family: a bot event in the tracker with their name in its metadata."""
    text = text.strip()
    if not text:
        raise LiveChatError("The message is empty.")
    if len(text) > MAX_STAFF_MESSAGE:
        raise LiveChatError(f"A message has at most {MAX_STAFF_MESSAGE} characters.")
    with engine.connect() as conn:
        row = _active_for(conn, sender_id, user, role)
    api.append(sender_id, [bot_event(text, "staff", staff=user, name=row["agent_name"])])
    with engine.begin() as conn:
        conn.execute(live_chats.update().where(live_chats.c.id == row["id"]).values(last_staff_at=utcnow()))


def hand_back(engine: Engine, api: RasaApi, live: LiveChat, sender_id: str, user: str, role: str) -> None:
    """Give the conversation back to the assistant: the family is told, Rasa resumes (audited)."""
    with engine.connect() as conn:
        row = _active_for(conn, sender_id, user, role)
    name = row["agent_name"] or row["taken_by"]
    api.append(sender_id, [bot_event(live.text("left", name=name), "left", staff=user, name=name),
                           {"event": "resume", "timestamp": time.time()}])
    with engine.begin() as conn:
        conn.execute(live_chats.update().where(live_chats.c.id == row["id"]).values(
            status=ENDED, ended_at=utcnow(), ended_by=user))
        record(conn, user, "live_hand_back", sender_id, f"taken over by {row['taken_by']}")


# ------------------------------------------------------------------------------------------------------- reading
def family_updates(engine: Engine, sender_id: str, after: int) -> dict[str, Any]:
    """For the family's widget: the hand-off's state, and the notices and staff messages after event `after`."""
    row = latest(engine, sender_id)
    messages: list[dict[str, Any]] = []
    newest = after
    if has_events(engine):
        with engine.connect() as conn:
            query = sa.select(events.c.id, events.c.data).where(
                events.c.sender_id == sender_id, events.c.type_name == "bot", events.c.id > after,
            ).order_by(events.c.id)
            for event_id, data in conn.execute(query):
                newest = max(newest, event_id)
                event = _json(data)
                meta = (event.get("metadata") or {}).get("live_chat") or {}
                if meta.get("kind") in TO_FAMILY:
                    messages.append({"id": event_id, "kind": meta["kind"], "name": meta.get("name") or "",
                                     "text": event.get("text") or ""})
    return {"status": row["status"] if row else "none", "name": (row or {}).get("agent_name") or "",
            "messages": messages, "after": newest}


def feed(engine: Engine, sender_id: str, after: int = 0) -> list[dict[str, Any]]:
    """For the staff member's live view: the family's and the assistant's messages and the staff messages after
    event `after` (from the start: the last CONTEXT_EVENTS), marked by who said them."""
    if not has_events(engine):
        return []
    query = sa.select(events.c.id, events.c.type_name, events.c.timestamp, events.c.intent_name, events.c.data).where(
        events.c.sender_id == sender_id, events.c.type_name.in_(("user", "bot")), events.c.id > after)
    with engine.connect() as conn:
        if after:
            rows = conn.execute(query.order_by(events.c.id)).all()
        else:
            rows = list(reversed(conn.execute(query.order_by(events.c.id.desc()).limit(CONTEXT_EVENTS)).all()))
    from bot.staff.safety_decisions import decision

    items = []
    for event_id, type_name, timestamp, intent, data in rows:
        event = _json(data)
        item: dict[str, Any] = {"id": event_id, "at": timestamp or 0.0, "text": event.get("text") or ""}
        if type_name == "user":
            parse = event.get("parse_data") or {}
            verdict = decision(parse, intent)
            item.update(who="family", emergency=bool(
                (intent or "").startswith("emergency_") or (verdict is not None and verdict.outcome == "now")))
        else:
            meta = (event.get("metadata") or {}).get("live_chat") or {}
            kind = meta.get("kind")
            item.update(who="staff" if kind == "staff" else "notice" if kind in ("joined", "left") else "assistant",
                        name=meta.get("name") or "", kind=kind or "")
            if not item["text"] and event.get("data", {}).get("custom"):
                continue  # the offer's button (the widget draws it)
        items.append(item)
    return items


def _json(data: str | None) -> dict[str, Any]:
    import json

    try:
        value = json.loads(data or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
