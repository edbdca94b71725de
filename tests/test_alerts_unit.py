"""Alerts without the bot (fast tier): escalations found in a store written the way Rasa writes it, dedupe, the
webhook received by a local http.server, the e-mail by a real local SMTP server (aiosmtpd), a receiver that is down
(kept, retried with backoff, shown as undelivered), and the console's routes (roles, CSRF, audit). The whole path
through the real bot, the worker process and a browser is tests/test_alerts.py."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from flask import Flask
from flask.testing import FlaskClient

from bot.core.settings import web_settings
from bot.processes import free_port
from bot.staff import accounts, alerts
from bot.staff.alert_worker import Worker, deliver, due, payload
from bot.staff.audit import entries, utcnow
from bot.staff.db import alert_deliveries, engine
from bot.staff.migrate import upgrade
from bot.web.app import create_app
from tests.staff_fixtures import PASSWORD
from tests.staff_store import bot, slot, store, user

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
REDACTED = "my son took all his xanax and won't wake up, call me on [phone]"
HISTORY = {
    "old-emergency": [user("he won't wake up", "emergency_medical", 1.0), slot("escalation_level", "emergency")],
}
NEW = {
    "emergency": [user("hello", "greet", 0.99), bot("Hello"), user(REDACTED, "emergency_medical", 1.0),
                  slot("escalation_level", "emergency"), bot("Call 911 now.")],
    "person": [user("I want to talk to a real person please", "request_human", 0.93),
               slot("escalation_level", "professional"), bot("The SAMHSA National Helpline.")],
    "information": [user("what are benzodiazepines?", "ask_what_are_benzodiazepines", 0.97), bot("Sedatives.")],
    "professional-only": [user("can he halve his dose?", "ask_medication_advice", 0.9),
                          slot("escalation_level", "professional")],
}


class Receiver(ThreadingHTTPServer):
    """A webhook receiver: keeps each JSON body with the time it arrived; `status` is what it answers."""

    allow_reuse_address = True
    daemon_threads = True

    def __init__(self, port: int = 0, status: int = 200) -> None:
        self.bodies: list[tuple[float, dict]] = []
        self.status = status
        self.release = threading.Event()
        self.release.set()
        self.holding = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                receiver.bodies.append((time.time(), body))
                receiver.holding.set()
                receiver.release.wait(60)
                self.send_response(receiver.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        super().__init__(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hook"

    def close(self) -> None:
        self.release.set()
        self.shutdown()
        self.server_close()


class Mailbox:
    """aiosmtpd handler: every message received."""

    def __init__(self) -> None:
        self.messages: list[tuple[float, Any]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append((time.time(), message_from_bytes(envelope.content)))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Controller, Mailbox]]:
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, mailbox
    controller.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


def new_store(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'conversations.db'}"
    store(url, HISTORY, time.time() - 7200)
    upgrade(url)
    return url


def settings(**values: Any) -> alerts.AlertSettings:
    base = alerts.alert_settings(environ={})
    return replace(base, **{"console_url": "https://console.example", "retry_first": 0.01, "retry_max": 0.02, **values})


def test_settings_come_from_the_file_and_set_environment_variables() -> None:
    config = {"webhook": {"url": "http://file/hook"}, "email": {"to": ["a@example.org"]}, "roles": ["admin"]}
    from_file = alerts.alert_settings(environ={"ALERT_WEBHOOK_URL": "  "}, config=config)
    assert from_file.webhook_url == "http://file/hook" and from_file.email_to == ("a@example.org",)
    assert from_file.channels == ["webhook", "email"] and from_file.roles == ("admin",)
    overridden = alerts.alert_settings(
        environ={"ALERT_WEBHOOK_URL": "http://env/hook", "ALERT_EMAIL_TO": "x@example.org, y@example.org",
                 "ALERT_SMTP_PORT": "2525", "ALERT_CONSOLE_URL": "https://staff.example/"},
        config=config,
    )
    assert overridden.webhook_url == "http://env/hook" and overridden.email_to == ("x@example.org", "y@example.org")
    assert overridden.smtp_port == 2525 and overridden.console_url == "https://staff.example"
    project = alerts.alert_settings(environ={})
    assert project.channels == [] and "request_human" in project.person_intents and "reviewer" not in project.roles
    assert [project.backoff(n) for n in (1, 2, 3)] == [2, 4, 8] and project.backoff(30) == project.retry_max


def test_new_escalations_become_alerts_once_and_the_past_does_not(tmp_path: Path) -> None:
    url = new_store(tmp_path)
    eng = engine(url)
    worker = Worker(eng, settings())
    assert worker.watch_once() == []  # first start: the emergency already in the store is not alerted
    store(url, NEW, time.time())
    created = worker.watch_once()
    data = alerts.listing(eng)
    assert len(created) == 2 and {(a["sender_id"], a["level"]) for a in data["open"]} == {
        ("emergency", "emergency"), ("person", "person")}
    emergency = next(a for a in data["open"] if a["level"] == "emergency")
    assert emergency["quote"] == REDACTED  # the family's message of the turn that set the slot
    assert worker.watch_once() == []  # nothing new

    # the same conversation escalates again: no second alert while the first is open ...
    store(url, {"emergency": NEW["emergency"][2:4]}, time.time())
    assert worker.watch_once() == [] and alerts.open_count(eng) == 2
    # ... a new one once it was handled
    assert alerts.handle(eng, "responder", emergency["id"])
    assert alerts.open_count(eng) == 1
    store(url, {"emergency": NEW["emergency"][2:4]}, time.time())
    assert len(worker.watch_once()) == 1 and alerts.open_count(eng) == 2

    # a restarted worker goes on where the last one stopped
    store(url, {"person": NEW["person"][:1], "later": NEW["person"][:1]}, time.time())
    restarted = Worker(eng, settings())
    assert len(restarted.watch_once()) == 1  # "later"; "person" still has its open alert
    assert alerts.listing(eng)["open"][0]["sender_id"] == "later"


def test_an_old_open_alert_does_not_hide_a_new_escalation(tmp_path: Path) -> None:
    url = new_store(tmp_path)
    eng = engine(url)
    watcher = alerts.Watcher.load(eng)
    store(url, {"e": NEW["emergency"]}, time.time())
    found = watcher.scan(eng, settings())
    assert len(alerts.record_alerts(eng, watcher, found, settings(), now=utcnow() - timedelta(hours=1))) == 1
    assert len(alerts.record_alerts(eng, watcher, found, settings())) == 1  # the first is outside the window


def test_the_webhook_and_the_email_carry_level_time_link_and_the_redacted_message(
    tmp_path: Path, receiver: Receiver, smtp: tuple[Controller, Mailbox],
) -> None:
    controller, mailbox = smtp
    url = new_store(tmp_path)
    eng = engine(url)
    options = settings(webhook_url=receiver.url, email_to=("team@example.org",), smtp_host="127.0.0.1",
                       smtp_port=controller.port)
    worker = Worker(eng, options)
    worker.watch_once()
    store(url, {"family-1": NEW["emergency"]}, time.time())
    assert len(worker.watch_once()) == 1
    assert worker.send_once() == 2
    [(_, body)] = receiver.bodies
    link = "https://console.example/staff/conversations/family-1"
    assert body["level"] == "emergency" and body["console_url"] == link and body["last_message"] == REDACTED
    assert body["time"].endswith("+00:00") and body["alert_id"] == alerts.listing(eng)["open"][0]["id"]
    assert "Emergency" in body["text"] and link in body["text"] and REDACTED in body["text"]
    [(_, mail)] = mailbox.messages
    assert mail["To"] == "team@example.org" and "[Emergency]" in mail["Subject"]
    text = mail.get_payload(decode=True).decode()
    assert link in text and REDACTED in text and "Level: emergency" in text
    statuses = {d["channel"]: d["status"] for d in alerts.listing(eng)["open"][0]["deliveries"]}
    assert statuses == {"webhook": "delivered", "email": "delivered"}
    assert worker.send_once() == 0  # delivered once only


def test_a_receiver_that_is_down_keeps_the_alert_retries_it_and_shows_it_undelivered(tmp_path: Path) -> None:
    url = new_store(tmp_path)
    eng = engine(url)
    port = free_port()
    options = settings(webhook_url=f"http://127.0.0.1:{port}/hook", retry_attempts=3, retry_first=0.05,
                       retry_max=0.05)
    worker = Worker(eng, options)
    worker.watch_once()
    store(url, {"family-2": NEW["person"]}, time.time())
    [alert_id] = worker.watch_once()
    assert worker.send_once() == 0
    [item] = alerts.listing(eng)["open"]
    [delivery] = item["deliveries"]
    assert item["id"] == alert_id and item["undelivered"]
    assert delivery["status"] == "retrying" and delivery["attempts"] == 1
    assert "refused" in delivery["last_error"].lower()
    assert due(eng) == []  # not before its backoff
    time.sleep(0.06)
    assert worker.send_once() == 0
    time.sleep(0.06)
    assert worker.send_once() == 0
    [delivery] = alerts.listing(eng)["open"][0]["deliveries"]
    assert delivery["status"] == "failed" and delivery["attempts"] == 3  # gave up, still recorded
    time.sleep(0.06)
    assert due(eng) == []

    # the receiver is back; staff send it again from the console
    server = Receiver(port)
    try:
        assert alerts.retry(eng, "responder", alert_id) == 1
        assert worker.send_once() == 1
        assert [body["alert_id"] for _, body in server.bodies] == [alert_id]
    finally:
        server.close()
    assert not alerts.listing(eng)["open"][0]["undelivered"]
    assert [e["action"] for e in entries(eng, sender_id="family-2")] == ["alert_retry"]


def test_a_receiver_answering_an_error_is_retried(tmp_path: Path) -> None:
    url = new_store(tmp_path)
    eng = engine(url)
    server = Receiver(status=500)
    try:
        worker = Worker(eng, settings(webhook_url=server.url))
        worker.watch_once()
        store(url, {"family-3": NEW["person"]}, time.time())
        worker.watch_once()
        [item] = due(eng)
        assert not deliver(eng, worker.settings, item)
        with eng.connect() as conn:
            row = conn.execute(sa.select(alert_deliveries)).one()
        assert row.status == "retrying" and row.last_error == "HTTP 500"
        server.status = 200
        time.sleep(0.03)
        assert worker.send_once() == 1
    finally:
        server.close()


def test_the_payload_is_slack_compatible() -> None:
    alert = {"id": 7, "level": "person", "message_at": 0.0, "sender_id": "abc", "quote": "please call [phone]"}
    body = payload(alert, settings())
    assert isinstance(body["text"], str) and body["text"].startswith("Asked for a person")
    assert json.loads(json.dumps(body)) == body
    assert body["time"] == "1970-01-01T00:00:00+00:00"


# --------------------------------------------------------------------------------------------------- the console
@dataclass
class Site:
    app: Flask
    url: str


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    directory = tmp_path_factory.mktemp("alerts-console")
    url = new_store(directory)
    app = create_app({**web_settings(), "database_url": url, "secret_key_file": str(directory / "secret_key"),
                      "rasa_url": f"http://127.0.0.1:{free_port()}", "session_cookie_secure": False})
    for name in ("admin", "responder", "reviewer"):
        accounts.create(engine(url), name, PASSWORD, name, by="test")
    worker = Worker(engine(url), settings())
    worker.watch_once()
    store(url, {"console-emergency": NEW["emergency"], "console-person": NEW["person"]}, time.time())
    assert len(worker.watch_once()) == 2
    return Site(app, url)


def login(site: Site, username: str) -> FlaskClient:
    client = site.app.test_client()
    token = TOKEN.search(client.get("/staff/login").get_data(as_text=True)).group(1)
    answer = client.post("/staff/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
    assert answer.status_code == 302
    return client


def first_open(site: Site) -> int:
    return alerts.listing(engine(site.url))["open"][0]["id"]


def test_anonymous_and_reviewers_are_refused_every_alert_route(site: Site) -> None:
    alert_id = first_open(site)
    routes = [("GET", "/staff/alerts"), ("GET", "/staff/alerts/live?list=1"),
              ("POST", f"/staff/alerts/{alert_id}/handle"), ("POST", f"/staff/alerts/{alert_id}/retry")]
    anonymous = site.app.test_client()
    for method, path in routes:
        answer = anonymous.open(path, method=method)
        assert answer.status_code in (302, 401), (method, path)
        assert REDACTED not in answer.get_data(as_text=True)
    reviewer = login(site, "reviewer")
    token = TOKEN.search(reviewer.get("/staff/").get_data(as_text=True)).group(1)
    for method, path in routes:
        answer = reviewer.open(path, method=method, data={"csrf_token": token})
        assert answer.status_code == 403, (method, path)
        assert REDACTED not in answer.get_data(as_text=True)
    assert "Needs attention" not in reviewer.get("/staff/").get_data(as_text=True)
    assert alerts.open_count(engine(site.url)) == 2  # nothing was handled


def test_a_responder_sees_the_count_the_list_and_marks_an_alert_handled(site: Site) -> None:
    client = login(site, "responder")
    home = client.get("/staff/").get_data(as_text=True)
    assert re.search(r'id="nav-alerts"[^>]*class="alerting"', home)
    assert re.search(r'aria-label="open alerts">2<', home) and "alerts.js" in home
    live = client.get("/staff/alerts/live?list=1").get_json()
    assert live["open"] == 2 and "console-emergency" in live["html"] and "Asked for a person" in live["html"]
    assert "won&#39;t wake up, call me on [phone]" in live["html"]
    assert "No webhook or e-mail configured" in live["html"]
    assert set(client.get("/staff/alerts/live").get_json()) == {"open"}

    alert_id = first_open(site)
    assert client.post(f"/staff/alerts/{alert_id}/handle").status_code == 400  # no CSRF token
    assert client.post(f"/staff/alerts/{alert_id}/handle", data={"csrf_token": "forged"}).status_code == 400
    token = TOKEN.search(client.get("/staff/alerts").get_data(as_text=True)).group(1)
    answer = client.post(f"/staff/alerts/{alert_id}/handle", data={"csrf_token": token}, follow_redirects=True)
    assert answer.status_code == 200 and "Marked as handled." in answer.get_data(as_text=True)
    assert client.get("/staff/alerts/live").get_json() == {"open": 1}
    assert client.post(f"/staff/alerts/{alert_id}/handle", data={"csrf_token": token}).status_code == 404
    handled = alerts.listing(engine(site.url))["handled"]
    assert [(a["id"], a["handled_by"]) for a in handled] == [(alert_id, "responder")]
    log = [(e["username"], e["action"]) for e in entries(engine(site.url))]
    assert ("responder", "alert_handled") in log


def test_an_admin_may_handle_alerts(site: Site) -> None:
    client = login(site, "admin")
    assert client.get("/staff/alerts").status_code == 200
    assert client.get("/staff/alerts/live").get_json()["open"] >= 0
