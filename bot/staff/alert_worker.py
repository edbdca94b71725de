"""python -m bot.staff.alert_worker --state FILE: the alerts service of both profiles (bot.staff.alerts).

Two threads: the watcher reads new events every poll_seconds and records alerts; the sender delivers them (webhook,
e-mail) and retries a failed delivery with backoff, so a slow or dead receiver never delays the next alert's record.
FILE gets a heartbeat for the supervisor's health check (bot.supervision, kind "alerts").
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import smtplib
import threading
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot.staff.alerts import LABELS, OPEN_STATUSES, AlertSettings, Watcher, alert_settings, quote, record_alerts
from bot.staff.audit import utcnow
from bot.staff.config import UTC
from bot.staff.db import alert_deliveries, alerts, events

logger = logging.getLogger(__name__)


class DeliveryError(Exception):
    """The receiver refused or could not be reached (the message is safe to store: no alert content)."""


def payload(alert: dict[str, Any], settings: AlertSettings, tz: Any = UTC) -> dict[str, Any]:
    """The webhook body: Slack's `text`, plus the same facts as fields for other receivers."""
    level = alert["level"]
    when = datetime.fromtimestamp(alert["message_at"], UTC).astimezone(tz)
    link = f"{settings.console_url}/staff/conversations/{alert['sender_id']}"
    label = LABELS.get(level, level)
    text = (f"{label} in a family conversation at {when:%Y-%m-%d %H:%M %Z}.\n"
            f"Last message (redacted): \"{alert['quote']}\"\nOpen it in the staff console: {link}")
    return {
        "text": text,
        "level": level,
        "label": label,
        "time": when.isoformat(timespec="seconds"),
        "console_url": link,
        "last_message": alert["quote"],
        "conversation": alert["sender_id"],
        "alert_id": alert["id"],
    }


def send_webhook(body: dict[str, Any], settings: AlertSettings) -> None:
    request = urllib.request.Request(
        settings.webhook_url, data=json.dumps(body).encode(), method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "family-support-alerts"},
    )
    try:
        with urllib.request.urlopen(request, timeout=settings.webhook_timeout) as answer:  # noqa: S310 (configured URL)
            answer.read(1024)
    except urllib.error.HTTPError as error:
        raise DeliveryError(f"HTTP {error.code}") from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise DeliveryError(f"{type(reason).__name__}: {reason}"[:200]) from None


def send_email(body: dict[str, Any], settings: AlertSettings) -> None:
    message = EmailMessage()
    message["Subject"] = f"[{body['label']}] A family conversation needs attention"
    message["From"] = settings.email_from
    message["To"] = ", ".join(settings.email_to)
    message.set_content(
        f"{body['text']}\n\nLevel: {body['level']}\nTime: {body['time']}\nConversation: {body['conversation']}\n"
    )
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password)
            smtp.send_message(message)
    except (smtplib.SMTPException, OSError) as error:
        raise DeliveryError(f"{type(error).__name__}: {error}"[:200]) from None


SENDERS = {"webhook": send_webhook, "email": send_email}


def due(engine: Engine, now: datetime | None = None) -> list[dict[str, Any]]:
    """Deliveries to try now, oldest first, with their alert and its quote."""
    query = (
        sa.select(alert_deliveries.c.id.label("delivery_id"), alert_deliveries.c.channel,
                  alert_deliveries.c.attempts, *alerts.c, events.c.data)
        .select_from(alert_deliveries.join(alerts, alerts.c.id == alert_deliveries.c.alert_id)
                     .outerjoin(events, events.c.id == alerts.c.event_id))
        .where(alert_deliveries.c.status.in_(OPEN_STATUSES), alert_deliveries.c.next_at <= (now or utcnow()))
        .order_by(alert_deliveries.c.next_at, alert_deliveries.c.id)
    )
    with engine.connect() as conn:
        rows = [dict(row._mapping) for row in conn.execute(query)]
    for row in rows:
        row["quote"] = quote(row.pop("data"))
    return rows


def deliver(engine: Engine, settings: AlertSettings, item: dict[str, Any], tz: Any = UTC) -> bool:
    """Try one delivery and record the outcome; True if it went out."""
    values: dict[str, Any]
    try:
        SENDERS[item["channel"]](payload(item, settings, tz), settings)
        values = {"status": "delivered", "delivered_at": utcnow(), "last_error": ""}
        ok = True
    except Exception as error:  # any failure is recorded and retried, never raised into the loop
        attempts = item["attempts"] + 1
        gave_up = attempts >= settings.retry_attempts
        values = {"status": "failed" if gave_up else "retrying", "last_error": str(error)[:255] or type(error).__name__,
                  "next_at": utcnow() + timedelta(seconds=settings.backoff(attempts))}
        logger.warning("alert %s by %s failed (try %d%s): %s", item["id"], item["channel"], attempts,
                       ", giving up" if gave_up else "", values["last_error"])
        ok = False
    with engine.begin() as conn:
        conn.execute(alert_deliveries.update().where(alert_deliveries.c.id == item["delivery_id"]).values(
            attempts=alert_deliveries.c.attempts + 1, **values))
    return ok


class Worker:
    """The watcher and the sender on one database; `wake` makes the sender look at once after new alerts."""

    def __init__(self, engine: Engine, settings: AlertSettings, tz: Any = UTC, state: Path | None = None) -> None:
        self.engine, self.settings, self.tz, self.state = engine, settings, tz, state
        self.wake = threading.Event()
        self.stop = threading.Event()
        self.watcher: Watcher | None = None
        self.errors = {"watcher": "", "sender": ""}

    def watch_once(self) -> list[int]:
        if self.watcher is None:
            self.watcher = Watcher.load(self.engine)
        created = record_alerts(self.engine, self.watcher, self.watcher.scan(self.engine, self.settings),
                                self.settings)
        if created:
            logger.info("recorded alerts %s", created)
            self.wake.set()
        return created

    def send_once(self) -> int:
        sent = 0
        for item in due(self.engine):
            sent += deliver(self.engine, self.settings, item, self.tz)
        return sent

    def _loop(self, name: str, step: Any, pause: float) -> None:
        while not self.stop.is_set():
            try:
                step()
                self.errors[name] = ""
            except Exception as error:  # database briefly down, a migration running: tried again next round
                logger.exception("alerts %s failed", name)
                self.errors[name] = type(error).__name__
                self.watcher = None if name == "watcher" else self.watcher
            if name == "sender":
                self.wake.wait(pause)
                self.wake.clear()
            else:
                self.stop.wait(pause)
                self.heartbeat()

    def heartbeat(self) -> None:
        if self.state is None:
            return
        errors = [f"{name}: {error}" for name, error in self.errors.items() if error]
        state = {"ok": not errors, "error": "; ".join(errors), "finished": time.time(), "pid": os.getpid(),
                 "channels": self.settings.channels}
        tmp = self.state.with_suffix(".tmp")
        tmp.write_text(json.dumps(state))
        tmp.replace(self.state)

    def run(self) -> None:
        sender = threading.Thread(target=self._loop, args=("sender", self.send_once, 1.0), name="alert-sender",
                                  daemon=True)
        sender.start()
        self._loop("watcher", self.watch_once, self.settings.poll_seconds)
        sender.join(timeout=5)


def main() -> None:
    from bot.staff.config import staff_settings
    from bot.staff.db import engine
    from bot.staff.migrate import upgrade

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--state", type=Path, help="heartbeat file for the health check (JSON)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    staff, settings = staff_settings(), alert_settings()
    while True:  # the web server may be creating the tables at the same moment: try again
        try:
            upgrade(staff.database_url)
            break
        except Exception:
            logger.exception("could not bring the staff tables up to date; trying again")
            time.sleep(5)
    logger.info("alerts: watching %s; delivering by %s", staff.database_url.split("@")[-1],
                ", ".join(settings.channels) or "nothing (the console only: config/alerts.yml)")
    Worker(engine(staff.database_url), settings, staff.tz, args.state).run()


if __name__ == "__main__":
    main()
