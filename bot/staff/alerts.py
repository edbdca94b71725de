"""Alerts: a conversation that escalates is recorded for staff at once and delivered by webhook and/or e-mail.

An escalation is a stored `escalation_level` slot event with the value `emergency` (set by the domain's from_intent
mappings for the emergency and safety-check intents), or a family message whose intent is one of `person_intents`
(config/alerts.yml; request_human). The alerts worker (bot.staff.alert_worker, a service of both profiles) reads
Rasa's `events` table for new ones, so nothing is added to the family's turn: the turn never waits for an alert and
no delivery failure can reach it.

An alert quotes the family's last message as the tracker store stored it: already redacted (bot.rasa.tracker_store). The
text is read from `events` when it is shown or sent, never copied into the staff_ tables.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from bot.core.settings import load_yaml
from bot.staff import intents as known
from bot.staff.audit import record, utcnow
from bot.staff.db import alert_deliveries, alert_state, alerts, events, has_events

EMERGENCY, PERSON = "emergency", "person"
LABELS = {EMERGENCY: "Emergency", PERSON: "Asked for a person"}
OPEN_STATUSES = ("pending", "retrying")
# Events committed out of id order (concurrent PostgreSQL transactions) are caught by looking back this far.
LOOKBACK = 200
MAX_QUOTE = 500


@dataclass(frozen=True)
class AlertSettings:
    console_url: str = "http://localhost:8000"
    person_intents: tuple[str, ...] = ("request_human",)
    dedupe_minutes: float = 30
    poll_seconds: float = 1
    console_refresh_seconds: float = 2
    roles: tuple[str, ...] = ("responder", "admin")
    webhook_url: str = ""
    webhook_timeout: float = 5
    email_to: tuple[str, ...] = ()
    email_from: str = "family-support-alerts@localhost"
    smtp_host: str = "localhost"
    smtp_port: int = 25
    smtp_starttls: bool = False
    smtp_username: str = ""
    smtp_password: str = field(default="", repr=False)
    smtp_timeout: float = 10
    retry_first: float = 2
    retry_max: float = 300
    retry_attempts: int = 12

    @property
    def channels(self) -> list[str]:
        """The configured ways out, in delivery order."""
        return [name for name, on in (("webhook", self.webhook_url), ("email", self.email_to)) if on]

    def backoff(self, attempts: int) -> float:
        """Seconds before the next try after `attempts` failed ones (2, 4, 8 ... up to retry_max)."""
        return min(self.retry_max, self.retry_first * 2 ** max(0, attempts - 1))


def alert_settings(environ: Mapping[str, str] = os.environ, config: dict[str, Any] | None = None) -> AlertSettings:
    """config/alerts.yml, with the ALERT_* environment variables that are set and not empty."""
    config = config if config is not None else load_yaml("config/alerts.yml")
    webhook, email, retry = config.get("webhook") or {}, config.get("email") or {}, config.get("retry") or {}

    def env(name: str, default: Any) -> Any:
        value = environ.get(name, "")
        return value if value.strip() else default

    recipients = env("ALERT_EMAIL_TO", email.get("to") or [])
    if isinstance(recipients, str):
        recipients = [item.strip() for item in recipients.split(",") if item.strip()]
    return AlertSettings(
        console_url=str(env("ALERT_CONSOLE_URL", config.get("console_url") or AlertSettings.console_url)).rstrip("/"),
        person_intents=tuple(config.get("person_intents") or ()),
        dedupe_minutes=float(config.get("dedupe_minutes", 30)),
        poll_seconds=float(config.get("poll_seconds", 1)),
        console_refresh_seconds=float(config.get("console_refresh_seconds", 2)),
        roles=tuple(config.get("roles") or ("admin",)),
        webhook_url=str(env("ALERT_WEBHOOK_URL", webhook.get("url") or "")),
        webhook_timeout=float(webhook.get("timeout_seconds", 5)),
        email_to=tuple(recipients),
        email_from=str(env("ALERT_EMAIL_FROM", email.get("from") or AlertSettings.email_from)),
        smtp_host=str(env("ALERT_SMTP_HOST", email.get("smtp_host") or "localhost")),
        smtp_port=int(env("ALERT_SMTP_PORT", email.get("smtp_port") or 25)),
        smtp_starttls=str(env("ALERT_SMTP_STARTTLS", email.get("starttls", False))).lower() in ("1", "true", "yes"),
        smtp_username=str(env("ALERT_SMTP_USERNAME", email.get("username") or "")),
        smtp_password=environ.get("ALERT_SMTP_PASSWORD", ""),
        smtp_timeout=float(email.get("timeout_seconds", 10)),
        retry_first=float(retry.get("first_seconds", 2)),
        retry_max=float(retry.get("max_seconds", 300)),
        retry_attempts=int(retry.get("attempts", 12)),
    )


@functools.cache
def console_alert_settings() -> AlertSettings:
    """The web server's copy (read once per process)."""
    return alert_settings()


# --------------------------------------------------------------------------------------------- finding escalations
@dataclass(frozen=True)
class Escalation:
    sender_id: str
    level: str
    event_id: int  # the family's message
    message_at: float


@dataclass
class Watcher:
    """The worker's place in `events`: everything up to `cursor` was looked at, and the ids in `seen` above
    cursor - LOOKBACK (an event committed late with a smaller id is still found)."""

    cursor: int = 0
    seen: set[int] = field(default_factory=set)

    @classmethod
    def load(cls, engine: Engine) -> Watcher:
        """Where the worker stopped; on its very first start, the end of the events (no alerts for the past)."""
        with engine.begin() as conn:
            row = conn.execute(sa.select(alert_state.c.last_event_id).where(alert_state.c.id == 1)).first()
            if row is not None:
                cursor = row[0]
            else:
                cursor = _max_event_id(conn) if has_events(engine) else 0
                conn.execute(alert_state.insert().values(id=1, last_event_id=cursor))
        seen = set()
        if cursor and has_events(engine):
            with engine.connect() as conn:
                seen = set(conn.execute(sa.select(events.c.id).where(
                    events.c.id > cursor - LOOKBACK, events.c.id <= cursor)).scalars())
        return cls(cursor, seen)

    def scan(self, engine: Engine, settings: AlertSettings) -> list[Escalation]:
        """The escalations among the events not looked at yet."""
        if not has_events(engine):
            return []
        person = set(settings.person_intents)
        found: list[Escalation] = []
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(events.c.id, events.c.sender_id, events.c.type_name, events.c.timestamp,
                          events.c.intent_name, events.c.action_name, events.c.data)
                .where(events.c.id > self.cursor - LOOKBACK)
                .order_by(events.c.id)
            ).all()
            for event_id, sender_id, type_name, timestamp, intent, action, data in rows:
                if event_id in self.seen:
                    continue
                self.seen.add(event_id)
                if type_name == "user" and intent in person:
                    found.append(Escalation(sender_id, PERSON, event_id, timestamp or 0.0))
                elif type_name == "slot" and action == known.ESCALATION_SLOT and _value(data) == EMERGENCY:
                    message = _user_message_before(conn, sender_id, event_id)
                    if message is not None:
                        found.append(Escalation(sender_id, EMERGENCY, *message))
        if rows:
            self.cursor = max(self.cursor, rows[-1][0])
            self.seen = {event_id for event_id in self.seen if event_id > self.cursor - LOOKBACK}
        return found

    def save(self, conn: Connection) -> None:
        conn.execute(alert_state.update().where(alert_state.c.id == 1).values(last_event_id=self.cursor))


def _max_event_id(conn: Connection) -> int:
    return conn.execute(sa.select(sa.func.max(events.c.id))).scalar() or 0


def _value(data: str | None) -> Any:
    try:
        return json.loads(data or "{}").get("value")
    except (ValueError, AttributeError):
        return None


def _user_message_before(conn: Connection, sender_id: str, event_id: int) -> tuple[int, float] | None:
    """The family message of the turn that set the slot (the latest before it)."""
    row = conn.execute(
        sa.select(events.c.id, events.c.timestamp)
        .where(events.c.sender_id == sender_id, events.c.type_name == "user", events.c.id < event_id)
        .order_by(events.c.id.desc()).limit(1)
    ).first()
    return (row[0], row[1] or 0.0) if row else None


# ------------------------------------------------------------------------------------------------- recording them
def record_alerts(engine: Engine, watcher: Watcher, found: list[Escalation], settings: AlertSettings,
                  now: datetime | None = None) -> list[int]:
    """Insert an alert per escalation (unless the same conversation has an unhandled alert of that level from the
    last dedupe_minutes) with a pending delivery per channel, and save the watcher's place: one transaction."""
    now = now or utcnow()
    window = now - timedelta(minutes=settings.dedupe_minutes)
    created = []
    with engine.begin() as conn:
        for escalation in found:
            duplicate = conn.execute(sa.select(alerts.c.id).where(
                alerts.c.sender_id == escalation.sender_id, alerts.c.level == escalation.level,
                alerts.c.handled_at.is_(None), alerts.c.created_at >= window,
            ).limit(1)).first()
            if duplicate is not None:
                continue
            alert_id = conn.execute(alerts.insert().values(
                sender_id=escalation.sender_id, level=escalation.level, event_id=escalation.event_id,
                message_at=escalation.message_at, created_at=now,
            )).inserted_primary_key[0]
            for channel in settings.channels:
                conn.execute(alert_deliveries.insert().values(
                    alert_id=alert_id, sender_id=escalation.sender_id, channel=channel, status="pending",
                    attempts=0, next_at=now, last_error="",
                ))
            created.append(alert_id)
        watcher.save(conn)
    return created


# --------------------------------------------------------------------------------------------- reading them back
def quote(data: str | None) -> str:
    """The stored (redacted) text of a family message, shortened."""
    try:
        text = json.loads(data or "{}").get("text") or ""
    except (ValueError, AttributeError):
        text = ""
    return text if len(text) <= MAX_QUOTE else text[:MAX_QUOTE - 1] + "…"


def listing(engine: Engine, handled_limit: int = 20) -> dict[str, list[dict[str, Any]]]:
    """The open alerts (newest first) and the last handled ones, each with its quote and deliveries."""
    columns = [*alerts.c, events.c.data]
    base = sa.select(*columns).select_from(alerts.outerjoin(events, events.c.id == alerts.c.event_id))
    with engine.connect() as conn:
        open_rows = conn.execute(base.where(alerts.c.handled_at.is_(None)).order_by(alerts.c.id.desc())).all()
        handled_rows = conn.execute(
            base.where(alerts.c.handled_at.is_not(None)).order_by(alerts.c.handled_at.desc()).limit(handled_limit)
        ).all()
        rows = [*open_rows, *handled_rows]
        by_alert: dict[int, list[dict[str, Any]]] = {}
        ids = [row.id for row in rows]
        if ids:
            query = sa.select(alert_deliveries).where(alert_deliveries.c.alert_id.in_(ids))
            for delivery in conn.execute(query.order_by(alert_deliveries.c.id)):
                by_alert.setdefault(delivery.alert_id, []).append(dict(delivery._mapping))

    def shaped(row: Any) -> dict[str, Any]:
        item = {key: value for key, value in row._mapping.items() if key != "data"}
        item["quote"] = quote(row.data)
        item["label"] = LABELS.get(row.level, row.level)
        item["deliveries"] = by_alert.get(row.id, [])
        item["undelivered"] = any(d["status"] in ("retrying", "failed") for d in item["deliveries"])
        return item

    return {"open": [shaped(row) for row in open_rows], "handled": [shaped(row) for row in handled_rows]}


def open_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(
            sa.select(sa.func.count()).select_from(alerts).where(alerts.c.handled_at.is_(None))
        ).scalar() or 0


def handle(engine: Engine, user: str, alert_id: int) -> bool:
    """Mark an open alert as handled (audited); False if there is no such open alert."""
    with engine.begin() as conn:
        row = conn.execute(sa.select(alerts.c.sender_id, alerts.c.level).where(
            alerts.c.id == alert_id, alerts.c.handled_at.is_(None))).first()
        if row is None:
            return False
        conn.execute(alerts.update().where(alerts.c.id == alert_id).values(handled_by=user, handled_at=utcnow()))
        record(conn, user, "alert_handled", row.sender_id, f"alert {alert_id} ({row.level})")
    return True


def retry(engine: Engine, user: str, alert_id: int) -> int:
    """Send an alert's failed deliveries again now (audited); how many."""
    with engine.begin() as conn:
        sender = conn.execute(sa.select(alerts.c.sender_id).where(alerts.c.id == alert_id)).scalar()
        if sender is None:
            return 0
        count = conn.execute(
            alert_deliveries.update()
            .where(alert_deliveries.c.alert_id == alert_id, alert_deliveries.c.status.in_(("retrying", "failed")))
            .values(status="retrying", next_at=utcnow())
        ).rowcount or 0
        if count:
            record(conn, user, "alert_retry", sender, f"alert {alert_id}: {count} deliveries")
    return count
