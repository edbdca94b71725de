"""Alerts end to end: the real bot stores a family's emergency (redacted), the alerts worker (its own process, as
supervisord runs it) records it and delivers it to a local webhook receiver and a real SMTP server (aiosmtpd); the
console's live view shows it in Chromium without a reload; with the receiver hanging or down the family's turn is
answered as usual and the alert is kept, retried and shown undelivered.

The measured delays (family message -> alert row, -> webhook, -> e-mail) are printed (pytest -s), never asserted:
speed belongs to benchmarks. The waits below are generous deadlines, not targets.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pytest
from aiosmtpd.controller import Controller
from playwright.sync_api import Page, expect

from bot.staff import alerts
from bot.staff.audit import entries
from bot.staff.config import UTC
from bot.staff.db import engine
from tests import servers
from tests.staff_browser import browser, log_in, page  # noqa: F401
from tests.staff_fixtures import (  # noqa: F401
    PHONE_TYPED,
    StaffSite,
    create_user,
    staff_conversations,
    staff_rasa,
    staff_web,
)
from tests.test_alerts_unit import Mailbox, Receiver

pytestmark = pytest.mark.servers
EMERGENCY = f"my son took a handful of xanax with vodka and now he won't wake up, call me on {PHONE_TYPED}"
DEADLINE = 30


@dataclass
class AlertRig:
    site: StaffSite
    rasa_url: str
    receiver_port: int
    mailbox: Mailbox
    receiver: Receiver | None = None

    def wait(self, check: Callable[[], Any], what: str) -> Any:
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            value = check()
            if value:
                return value
            time.sleep(0.05)
        raise AssertionError(f"no {what} within {DEADLINE} s")

    def alert_for(self, sender: str) -> dict[str, Any] | None:
        return next((a for a in alerts.listing(engine(self.site.database_url))["open"] if a["sender_id"] == sender),
                    None)


def text(message: Any) -> str:
    return message.get_payload(decode=True).decode()


@pytest.fixture(scope="module")
def rig(staff_web: StaffSite, staff_rasa: servers.Service, workdir: Path) -> Iterator[AlertRig]:  # noqa: F811
    """The alerts worker on the bot's store, with a webhook receiver port and a real SMTP server."""
    mailbox = Mailbox()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=servers.free_port())
    smtp.start()
    rig = AlertRig(staff_web, staff_rasa.url, servers.free_port(), mailbox)
    rig.receiver = Receiver(rig.receiver_port)
    assert create_user(staff_web.database_url, "responder", "responder").returncode == 0
    env = servers.base_env(
        DATABASE_URL=staff_web.database_url, ALERT_WEBHOOK_URL=f"http://127.0.0.1:{rig.receiver_port}/hook",
        ALERT_EMAIL_TO="team@example.org", ALERT_SMTP_HOST="127.0.0.1", ALERT_SMTP_PORT=str(smtp.port),
        ALERT_CONSOLE_URL=staff_web.url,
    )
    state = workdir / "alerts.json"
    log = open(workdir / "alerts.log", "ab")
    worker = subprocess.Popen([str(servers.BIN / "python"), "-m", "bot.staff.alert_worker", "--state", str(state)],
                              cwd=servers.ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        rig.wait(lambda: state.exists() or worker.poll() is not None, "heartbeat of the alerts worker")
        assert worker.poll() is None, (workdir / "alerts.log").read_text()[-2000:]
        yield rig
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=20)
        log.close()
        if rig.receiver:
            rig.receiver.close()
        smtp.stop()


def test_an_emergency_reaches_the_console_the_webhook_and_the_mailbox(rig: AlertRig, sender: str) -> None:
    sent = time.time()
    answer = servers.texts(servers.say(rig.rasa_url, sender, EMERGENCY))
    assert "911" in answer
    alert = rig.wait(lambda: rig.alert_for(sender), "alert row")
    assert alert["level"] == "emergency" and PHONE_TYPED not in alert["quote"] and "[phone]" in alert["quote"]
    hooked = rig.wait(lambda: [(t, b) for t, b in rig.receiver.bodies if b["conversation"] == sender], "webhook")
    mailed = rig.wait(lambda: [(t, m) for t, m in rig.mailbox.messages if sender in text(m)], "e-mail")
    [(hook_at, body)] = hooked
    assert body["level"] == "emergency" and body["console_url"] == f"{rig.site.url}/staff/conversations/{sender}"
    assert "[phone]" in body["last_message"] and PHONE_TYPED not in str(body)
    assert "[phone]" in text(mailed[0][1]) and PHONE_TYPED not in text(mailed[0][1])
    created = alert["created_at"].replace(tzinfo=UTC).timestamp()
    print(f"\nalert delays from the family's message ({alert['message_at'] - sent:.2f} s after the request was sent): "
          f"row {created - alert['message_at']:.2f} s, webhook {hook_at - alert['message_at']:.2f} s, "
          f"e-mail {mailed[0][0] - alert['message_at']:.2f} s")


def test_a_request_for_a_person_alerts_too(rig: AlertRig, sender: str) -> None:
    servers.say(rig.rasa_url, sender, "I want to talk to a real person please")
    alert = rig.wait(lambda: rig.alert_for(sender), "alert row")
    assert alert["level"] == "person"
    rig.wait(lambda: [b for _, b in rig.receiver.bodies if b["conversation"] == sender], "webhook")


def test_the_turn_never_waits_for_the_receiver(rig: AlertRig, sender: str) -> None:
    """A receiver that holds the webhook open: the family's answer comes while it still holds it. Then the receiver
    is down: the turn is answered as usual, the alert is kept and shown undelivered, and sent once it is back."""
    rig.receiver.release.clear()
    rig.receiver.holding.clear()
    try:
        started = time.monotonic()
        servers.say(rig.rasa_url, sender, EMERGENCY)
        up = time.monotonic() - started
        rig.wait(lambda: rig.receiver.holding.is_set(), "webhook request")
        assert not rig.receiver.release.is_set()  # the receiver still holds it; the family has the answer
    finally:
        rig.receiver.release.set()
    rig.receiver.close()
    rig.receiver = None

    down_sender = sender + "-down"
    started = time.monotonic()
    answer = servers.texts(servers.say(rig.rasa_url, down_sender, EMERGENCY))
    down = time.monotonic() - started
    assert "911" in answer
    print(f"\nturn latency: receiver holding the webhook {up:.2f} s, receiver down {down:.2f} s")
    # the sender tries the webhook, then the e-mail, one after the other: wait for both outcomes (waiting for the
    # webhook's alone raced the e-mail, still pending then)
    retrying = rig.wait(lambda: (a := rig.alert_for(down_sender)) and a["undelivered"] and all(
        d["status"] != "pending" for d in a["deliveries"]) and a, "undelivered alert")
    webhook = next(d for d in retrying["deliveries"] if d["channel"] == "webhook")
    assert webhook["status"] == "retrying" and webhook["last_error"]
    assert next(d for d in retrying["deliveries"] if d["channel"] == "email")["status"] == "delivered"

    rig.receiver = Receiver(rig.receiver_port)
    rig.wait(lambda: [b for _, b in rig.receiver.bodies if b["conversation"] == down_sender], "webhook after retry")
    delivered = rig.wait(lambda: (a := rig.alert_for(down_sender)) and not a["undelivered"] and a, "delivered")
    assert next(d for d in delivered["deliveries"] if d["channel"] == "webhook")["attempts"] >= 2


@pytest.mark.browser
def test_the_console_shows_a_new_emergency_without_a_reload(rig: AlertRig, page: Page, sender: str) -> None:  # noqa: F811
    log_in(page, rig.site, "responder")
    page.get_by_role("link", name="Needs attention").click()
    expect(page.get_by_role("heading", name="Needs attention")).to_be_visible()
    before = int(page.locator("#nav-alerts .count").inner_text())
    page.evaluate("window.__sameDocument = true")
    servers.say(rig.rasa_url, sender, EMERGENCY)
    item = page.locator(f'li.alert:has(a[href*="/staff/conversations/{sender}"])')
    expect(item).to_be_visible(timeout=DEADLINE * 1000)
    assert page.evaluate("window.__sameDocument === true")  # no reload
    expect(item).to_have_class(re.compile(r"\bnew\b"))
    expect(item.locator(".quote")).to_contain_text("[phone]")
    expect(page.locator("#nav-alerts .count")).to_have_text(str(before + 1))
    expect(page.locator("#nav-alerts")).to_have_class("alerting")
    servers.SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(servers.SCREENSHOTS / "staff-alerts.png"), full_page=True)
    item.get_by_role("button", name="Mark as handled").click()
    expect(page.get_by_text("Marked as handled.")).to_be_visible()
    expect(page.locator(f'#alerts-live li.alert:has(a[href*="{sender}"]) button')).to_have_count(0)
    log = [(e["username"], e["action"]) for e in entries(engine(rig.site.database_url), sender_id=sender)]
    assert ("responder", "alert_handled") in log
