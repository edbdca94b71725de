"""The live hand-off without the bot (fast tier): the staffed-hours settings and their start-up errors, and the
family's and the staff's endpoints over HTTP (Flask's test client) on a real SQLite store, with a stand-in for Rasa's
HTTP API that records every event appended: roles, CSRF, anonymous refused, audit log, outside hours, the timeout
fallback, the API down, and staff text kept out of the logs. The whole hand-off in two browsers, on the real bot, is
tests/test_live_chat.py."""

from __future__ import annotations

import contextlib
import json
import logging
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from bot.core import live_chat
from bot.core.live_chat import LiveChat, LiveChatConfigError
from bot.core.settings import load_yaml, web_settings
from bot.staff import accounts, alerts, live
from bot.staff.alert_worker import Worker
from bot.staff.audit import entries
from bot.staff.db import engine, live_chats
from bot.web.app import create_app
from tests.staff_fixtures import PASSWORD
from tests.staff_store import bot, slot, store, user
from tests.test_alerts_unit import settings as alert_settings

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
API_TOKEN = "test-token-9f1c"
STAFF_TEXT = "Hello, I'm Dana from the admissions team; how is your son doing right now?"
ALL_WEEK = {day: "00:00-24:00" for day in live_chat.DAYS}
PERSON = [user("I want to talk to a real person please", "request_human", 0.93),
          slot("escalation_level", "professional"), bot("The SAMHSA National Helpline.")]
EMERGENCY_ANSWER = "Call 911 now. This may be a medical emergency."


def options(hours: dict[str, Any] | None = None, wait: float = 5, zone: str = "UTC") -> LiveChat:
    return live_chat.parse({"name": "Example Recovery", "live_chat": {
        "timezone": zone, "wait_minutes": wait, "hours": ALL_WEEK if hours is None else hours}})


# ------------------------------------------------------------------------------------------------------- settings
def test_the_committed_provider_file_is_valid_and_live_chat_is_off_by_default() -> None:
    settings = live_chat.load()
    assert not settings.enabled and not settings.staffed()
    assert settings.roles == ("responder", "admin") and "request_human" in settings.offer_intents


def test_staffed_hours_follow_the_providers_time_zone_and_weekdays() -> None:
    settings = options({"mon": "09:00-17:00", "sat": ["10:00-12:00", "22:00-24:00"]}, zone="America/New_York")
    assert settings.enabled
    at = lambda text: datetime.fromisoformat(text).replace(tzinfo=timezone.utc)  # noqa: E731
    assert settings.staffed(at("2026-11-30T14:00:00"))  # Monday 09:00 in New York
    assert not settings.staffed(at("2026-11-30T13:59:00"))  # 08:59 there
    assert not settings.staffed(at("2026-11-30T22:00:00"))  # 17:00: the end is not staffed
    assert settings.staffed(at("2026-12-06T04:30:00"))  # Saturday 23:30 there (Sunday in UTC)
    assert not settings.staffed(at("2026-12-05T17:30:00"))  # Saturday 12:30: between the two periods
    assert not settings.staffed(at("2026-12-01T15:00:00"))  # Tuesday: not listed, closed
    assert settings.describe_hours() == "mon 09:00-17:00; sat 10:00-12:00, 22:00-24:00 (America/New_York)"


@pytest.mark.parametrize(("section", "message"), [
    ({"timezone": "Mars/Olympus", "hours": {"mon": "09:00-17:00"}}, "live_chat.timezone: 'Mars/Olympus'"),
    ({"timezone": "UTC", "hours": {"mon": "9-5"}}, "live_chat.hours.mon: '9-5' is not a period"),
    ({"timezone": "UTC", "hours": {"someday": "09:00-17:00"}}, "live_chat.hours.someday: not a weekday"),
    ({"timezone": "UTC", "hours": {"mon": "18:00-09:00"}}, "ends before it starts"),
    ({"timezone": "UTC", "hours": {"mon": ["09:00-12:00", "11:00-13:00"]}}, "periods overlap"),
    ({"timezone": "UTC", "hours": {"mon": "09:00-25:00"}}, "not a time of day"),
    ({"timezone": "UTC", "wait_minutes": "five", "hours": {}}, "live_chat.wait_minutes: 'five'"),
    ({"timezone": "UTC", "staffed": {}}, "live_chat.staffed: unknown key"),
])
def test_a_malformed_section_is_refused_with_the_key_and_the_fix(section: dict, message: str) -> None:
    with pytest.raises(LiveChatConfigError, match=re.escape(message)):
        live_chat.parse({"name": "Example Recovery", "live_chat": section}, "config/provider.yml")


def test_live_chat_needs_the_providers_name() -> None:
    with pytest.raises(LiveChatConfigError, match="provider's `name`"):
        live_chat.parse({"name": "", "live_chat": {"timezone": "UTC", "hours": {"mon": "09:00-17:00"}}})


def test_a_malformed_provider_file_stops_the_web_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "provider.yml"
    bad.write_text("name: X\nlive_chat:\n  timezone: UTC\n  hours: {mon: '9 to 5'}\n")
    monkeypatch.setenv("PROVIDER_CONFIG", str(bad))
    with pytest.raises(LiveChatConfigError, match=r"hours\.mon: '9 to 5'"):
        create_app({**web_settings(), "database_url": f"sqlite:///{tmp_path / 'c.db'}",
                    "secret_key_file": str(tmp_path / "secret"), "rasa_url": "http://127.0.0.1:9"})


def test_the_fallback_is_the_domains_helpline_answer_and_the_providers_contact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    texts = live_chat.fallback(options(), "timed_out")
    helpline = " ".join(load_yaml("domain.yml")["responses"]["utter_professional_help"][0]["text"].split())
    assert texts == ["Sorry, nobody from Example Recovery could join the chat just now.", helpline]  # no contact set
    assert "1-800-662-4357" in helpline
    provider = tmp_path / "provider.yml"
    provider.write_text("name: Example Recovery\nphone: 559-555-0100\nwebsite: ''\nhours: Mon-Fri 9-5\n")
    monkeypatch.setenv("PROVIDER_CONFIG", str(provider))
    contact = live_chat.fallback(options(), "closed")[2]
    assert contact == "You can also contact Example Recovery: call 559-555-0100 (Mon-Fri 9-5)."


# ---------------------------------------------------------------------------------------- a stand-in for Rasa's API
class FakeRasa(ThreadingHTTPServer):
    """Rasa's API route that appends events (records them, checks the token) and its REST webhook (answers every
    message with the emergency answer, as the channel does for an emergency in a paused conversation)."""

    allow_reuse_address = True
    daemon_threads = True

    def __init__(self) -> None:
        self.appended: list[tuple[str, list[dict]]] = []
        self.down = False
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                url = urlparse(self.path)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if url.path == "/webhooks/rest/webhook":
                    self._answer(200, [{"recipient_id": body["sender"], "text": EMERGENCY_ANSWER}])
                    return
                match = re.fullmatch(r"/conversations/(.+)/tracker/events", url.path)
                if fake.down or not match or parse_qs(url.query).get("token") != [API_TOKEN]:
                    self._answer(503 if fake.down else 401, {"error": "no"})
                    return
                fake.appended.append((match.group(1), body))
                self._answer(200, {})

            def _answer(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def events_for(self, sender: str) -> list[dict]:
        return [event for who, events in self.appended if who == sender for event in events]


@dataclass
class Site:
    app: Flask
    url: str
    rasa: FakeRasa
    senders: list[str] = field(default_factory=list)

    @property
    def db(self) -> sa.engine.Engine:
        return engine(self.url)

    def family(self, path: str, **body: Any) -> Any:
        answer = self.app.test_client().post(path, json=body)
        return answer.status_code, answer.get_json()

    def new_conversation(self, name: str) -> str:
        sender = f"live-{name}-{len(self.senders)}-{time.monotonic_ns()}"
        store(self.url, {sender: PERSON}, time.time())
        self.senders.append(sender)
        return sender


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    directory = tmp_path_factory.mktemp("live-chat")
    url = f"sqlite:///{directory / 'conversations.db'}"
    store(url, {"before": PERSON}, time.time() - 600)
    rasa = FakeRasa()
    app = create_app({**web_settings(), "database_url": url, "secret_key_file": str(directory / "secret_key"),
                      "rasa_url": rasa.url, "session_cookie_secure": False, "rasa_api_urls": [],
                      "rasa_token_file": ""})
    app.extensions["live_chat"] = options()
    app.extensions["rasa_api"] = live.RasaApi((rasa.url,), API_TOKEN)
    for name in ("admin", "responder", "reviewer"):
        accounts.create(engine(url), name, PASSWORD, name, by="test")
    accounts.create(engine(url), "responder2", PASSWORD, "responder", by="test")
    yield Site(app, url, rasa)
    rasa.shutdown()


def login(site: Site, username: str) -> FlaskClient:
    client = site.app.test_client()
    token = TOKEN.search(client.get("/staff/login").get_data(as_text=True)).group(1)
    answer = client.post("/staff/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
    assert answer.status_code == 302
    return client


def csrf(client: FlaskClient, path: str = "/staff/") -> str:
    return TOKEN.search(client.get(path).get_data(as_text=True)).group(1)


def status(site: Site, sender: str) -> str:
    row = live.latest(site.db, sender)
    return row["status"] if row else "none"


def waiting(site: Site, name: str) -> str:
    sender = site.new_conversation(name)
    code, body = site.family("/live/request", sender=sender)
    assert code == 200 and body["status"] == "waiting", body
    assert "Example Recovery" in body["messages"][0] and body["after"] > 0
    return sender


def take(client: FlaskClient, sender: str, name: str = "Dana") -> Any:
    return client.post(f"/staff/live/{sender}/take", data={"name": name, "csrf_token": csrf(client)})


# ------------------------------------------------------------------------------------------------------ the routes
def test_anonymous_and_reviewers_cannot_see_the_queue_or_take_over(site: Site) -> None:
    sender = waiting(site, "refused")
    routes = [("GET", "/staff/live"), ("GET", "/staff/live/queue"), ("POST", f"/staff/live/{sender}/take"),
              ("GET", f"/staff/live/{sender}/chat"), ("GET", f"/staff/live/{sender}/feed?after=1"),
              ("POST", f"/staff/live/{sender}/send"), ("POST", f"/staff/live/{sender}/hand-back")]
    anonymous = site.app.test_client()
    for method, path in routes:
        answer = anonymous.open(path, method=method, data={"name": "Eve", "text": "hi"})
        assert answer.status_code in (302, 401), (method, path)
        assert answer.status_code == 401 or answer.headers["Location"].startswith("/staff/login")
    reviewer = login(site, "reviewer")
    token = csrf(reviewer)
    for method, path in routes:
        answer = reviewer.open(path, method=method, data={"name": "Eve", "text": "hi", "csrf_token": token})
        assert answer.status_code == 403, (method, path)
    assert "Live chat" not in reviewer.get("/staff/").get_data(as_text=True)
    assert status(site, sender) == "waiting" and not site.rasa.events_for(sender)


def test_taking_over_needs_the_csrf_token(site: Site) -> None:
    sender = waiting(site, "csrf")
    client = login(site, "responder")
    answer = client.post(f"/staff/live/{sender}/take", data={"name": "Dana"})
    assert answer.status_code == 400 and "Form refused" in answer.get_data(as_text=True)
    answer = client.post(f"/staff/live/{sender}/take", data={"name": "Dana", "csrf_token": "forged"})
    assert answer.status_code == 400
    assert status(site, sender) == "waiting" and not site.rasa.events_for(sender)


def test_a_whole_hand_off_over_http(site: Site, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    # an "asked for a person" alert for this conversation, which the take-over answers
    worker = Worker(site.db, alert_settings())
    worker.watch_once()
    sender = waiting(site, "whole")
    worker.watch_once()
    assert any(a["sender_id"] == sender for a in alerts.listing(site.db)["open"])

    client = login(site, "responder")
    queue = client.get("/staff/live").get_data(as_text=True)
    assert sender in queue and "I want to talk to a real person please" in queue
    assert client.get("/staff/live/queue").get_json()["waiting"] >= 1
    assert 'id="nav-live"' in client.get("/staff/").get_data(as_text=True)

    answer = take(client, sender)
    assert answer.status_code == 302 and answer.headers["Location"] == f"/staff/live/{sender}/chat"
    pause, joined = site.rasa.events_for(sender)
    assert pause["event"] == "pause"
    assert joined["event"] == "bot" and joined["text"] == "Dana from Example Recovery has joined the chat."
    assert joined["metadata"] == {"live_chat": {"kind": "joined", "staff": "responder", "name": "Dana"}}
    assert status(site, sender) == "active"
    assert not any(a["sender_id"] == sender for a in alerts.listing(site.db)["open"])  # answered by the take-over

    # a second staff member cannot take it too
    other = login(site, "responder2")
    assert take(other, sender, "Sam").status_code == 302
    assert "not waiting for a person any more" in other.get("/staff/live").get_data(as_text=True)
    assert len(site.rasa.events_for(sender)) == 2

    # the staff member writes: a bot event with their name; nobody else (but an admin) may write in it
    token = csrf(client, f"/staff/live/{sender}/chat")
    sent = client.post(f"/staff/live/{sender}/send", data={"text": STAFF_TEXT, "csrf_token": token},
                       headers={"Accept": "application/json"})
    assert sent.status_code == 200 and sent.get_json() == {"ok": True}
    message = site.rasa.events_for(sender)[-1]
    assert message["text"] == STAFF_TEXT
    assert message["metadata"]["live_chat"] == {"kind": "staff", "staff": "responder", "name": "Dana"}
    refused = other.post(f"/staff/live/{sender}/send", data={"text": "me too", "csrf_token": csrf(other)},
                         headers={"Accept": "application/json"})
    assert refused.status_code == 409 and "responder has this conversation" in refused.get_json()["error"]
    no_token = client.post(f"/staff/live/{sender}/send", data={"text": "no token"})
    assert no_token.status_code == 400
    assert len(site.rasa.events_for(sender)) == 3

    # what Rasa stored (here: written as it would be) reaches the family's poll and the staff's feed
    store(site.url, {sender: [
        {**bot(joined["text"]), "data": {"event": "bot", "text": joined["text"], "metadata": joined["metadata"]}},
        {**bot(STAFF_TEXT), "data": {"event": "bot", "text": STAFF_TEXT, "metadata": message["metadata"]}},
        user("he's ok, just sleeping a lot", "inform", 0.8),
        user("now he won't wake up", "emergency_medical", 1.0, safety={"outcome": "now", "kind": "medical"}),
    ]}, time.time())
    code, polled = site.family("/live/poll", sender=sender, after=0)
    assert code == 200 and polled["status"] == "active" and polled["name"] == "Dana"
    assert [(m["kind"], m["text"]) for m in polled["messages"]] == [
        ("joined", joined["text"]), ("staff", STAFF_TEXT)]
    assert polled["messages"][1]["name"] == "Dana"
    assert site.family("/live/poll", sender=sender, after=polled["after"])[1]["messages"] == []
    feed = client.get(f"/staff/live/{sender}/feed", query_string={"after": polled["after"] - 2}).get_json()
    family = [item for item in feed["items"] if item["who"] == "family"]
    assert [(item["text"], item["emergency"]) for item in family] == [
        ("he's ok, just sleeping a lot", False), ("now he won't wake up", True)]
    page = client.get(f"/staff/live/{sender}/chat").get_data(as_text=True)
    assert "now he won&#39;t wake up" in page and 'id="live-emergency"' in page

    # a family message while a person has it: the proxy writes what the channel answered to the tracker
    answer = site.app.test_client().post("/webhooks/rest/webhook", json={"sender": sender, "message": "help"})
    assert answer.get_json()[0]["text"] == EMERGENCY_ANSWER
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and site.rasa.events_for(sender)[-1].get("text") != EMERGENCY_ANSWER:
        time.sleep(0.05)
    assert site.rasa.events_for(sender)[-1]["metadata"] == {"live_chat": {"kind": "assistant"}}

    # hand back: the family is told, Rasa resumes; audited
    back = client.post(f"/staff/live/{sender}/hand-back", data={"csrf_token": csrf(client)})
    assert back.status_code == 302
    left, resume = site.rasa.events_for(sender)[-2:]
    assert left["text"] == "Dana has left the chat. You're talking to the automated assistant again."
    assert resume["event"] == "resume"
    assert status(site, sender) == "ended"
    log = [(e["username"], e["action"], e["detail"]) for e in entries(site.db, sender_id=sender)]
    assert ("responder", "live_take_over", "shown to the family as Dana") in log
    assert ("responder", "live_hand_back", "taken over by responder") in log
    assert STAFF_TEXT not in json.dumps([e for e in entries(site.db, size=1000)], default=str)
    # the staff member's words are kept out of every log line
    assert STAFF_TEXT not in caplog.text and "sleeping a lot" not in caplog.text


def test_outside_staffed_hours_the_family_gets_the_helpline_and_nothing_is_queued(site: Site) -> None:
    closed_today = {day: "00:00-24:00" for number, day in enumerate(live_chat.DAYS)
                    if number != datetime.now(timezone.utc).weekday()}
    site.app.extensions["live_chat"] = options(closed_today)
    try:
        sender = site.new_conversation("closed")
        code, body = site.family("/live/request", sender=sender)
        assert code == 200 and body["status"] == "closed"
        assert body["messages"][0] == "Sorry, nobody from Example Recovery can chat right now."
        assert "1-800-662-4357" in body["messages"][1]
        assert status(site, sender) == "none"
    finally:
        site.app.extensions["live_chat"] = options()


def test_nobody_takes_it_in_time_the_family_gets_the_helpline(site: Site) -> None:
    sender = waiting(site, "timeout")
    with site.db.begin() as conn:  # as if the wait_minutes had passed
        conn.execute(live_chats.update().where(live_chats.c.sender_id == sender).values(
            deadline=datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(seconds=1)))
    code, body = site.family("/live/poll", sender=sender, after=0)
    assert code == 200 and body["status"] == "expired"
    [fallback] = [m for m in body["messages"] if m["kind"] == "timed_out"]
    assert fallback["texts"][0] == "Sorry, nobody from Example Recovery could join the chat just now."
    assert "1-800-662-4357" in fallback["texts"][1]
    assert [e["metadata"]["live_chat"]["kind"] for e in site.rasa.events_for(sender)] == ["timed_out", "timed_out"]
    client = login(site, "responder")
    assert take(client, sender).status_code == 302
    assert status(site, sender) == "expired" and "pause" not in str(site.rasa.events_for(sender))
    assert ("-", "live_expired") in [(e["username"], e["action"]) for e in entries(site.db, sender_id=sender)]
    # asking again starts a new wait
    assert site.family("/live/request", sender=sender)[1]["status"] == "waiting"


def test_a_conversation_its_staff_member_left_silent_goes_back_to_the_assistant(site: Site) -> None:
    sender = waiting(site, "idle")
    assert take(login(site, "responder"), sender).status_code == 302
    assert site.family("/live/poll", sender=sender, after=0)[1]["status"] == "active"  # not idle yet
    with site.db.begin() as conn:  # as if the staff member had written nothing for idle_minutes
        conn.execute(live_chats.update().where(live_chats.c.sender_id == sender).values(
            last_staff_at=datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(minutes=21)))
    code, body = site.family("/live/poll", sender=sender, after=0)
    assert code == 200 and body["status"] == "ended"
    left, resume = site.rasa.events_for(sender)[-2:]
    assert left["text"] == "Dana has left the chat. You're talking to the automated assistant again."
    assert resume["event"] == "resume"
    assert ("-", "live_idle_hand_back") in [(e["username"], e["action"]) for e in entries(site.db, sender_id=sender)]
    assert len(site.rasa.events_for(sender)) == 4  # pause, joined, left, resume: handed back once


def test_when_rasas_api_is_down_nothing_is_taken_over(site: Site) -> None:
    sender = waiting(site, "api-down")
    client = login(site, "admin")
    site.rasa.down = True
    try:
        answer = take(client, sender)
    finally:
        site.rasa.down = False
    assert answer.status_code == 302
    assert "could not be reached (HTTP 503)" in client.get("/staff/live").get_data(as_text=True)
    assert status(site, sender) == "waiting"
    assert "live_take_over" not in [e["action"] for e in entries(site.db, sender_id=sender)]


def test_with_live_chat_off_the_family_endpoints_and_the_queue_are_not_there(site: Site) -> None:
    site.app.extensions["live_chat"] = replace(options(), hours={})
    try:
        code, body = site.family("/live/request", sender="anyone")
        assert code == 404 and body["status"] == "off"
        client = login(site, "responder")
        assert client.get("/staff/live").status_code == 404
        assert 'id="nav-live"' not in client.get("/staff/").get_data(as_text=True)
    finally:
        site.app.extensions["live_chat"] = options()


def test_the_family_endpoints_check_their_input(site: Site) -> None:
    client = site.app.test_client()
    assert client.post("/live/request", data="sender=x").status_code == 415
    assert client.post("/live/request", json={"sender": ""}).status_code == 400
    assert client.post("/live/poll", json=["x"]).status_code == 400
    assert client.post("/live/poll", json={"sender": "x" * 200}).status_code == 400
    code, body = site.family("/live/poll", sender="never-asked", after="junk")
    assert code == 200 and body["status"] == "none" and body["messages"] == []


# ------------------------------------------------------------------------------------------------- on PostgreSQL
@pytest.mark.servers
def test_the_migration_and_the_queue_work_on_postgresql(site: Site) -> None:
    """Migration 0004 and every query of the hand-off on a PostgreSQL cluster of the test's own (the production
    profile's database), with the same stand-in for Rasa's API."""
    from bot.staff.migrate import upgrade
    from scripts.prod.stack import Postgres, test_settings

    directory = Path(tempfile.mkdtemp(prefix="live-pg-"))
    directory.chmod(0o755)  # the cluster runs as `postgres` when the tests run as root
    pg = Postgres(test_settings(directory))
    try:
        pg.init()
        if pg.user:
            shutil.chown(pg.dir, pg.user, pg.user)
        pg.pg_ctl("-l", str(pg.dir / "server.log"), "-o", f"-p {pg.port} -c listen_addresses=127.0.0.1", "-w",
                  "-t", "60", "start")
        store(pg.url, {"pg-family": PERSON}, time.time())
        upgrade(pg.url)
        upgrade(pg.url)  # idempotent
        db, api, settings = engine(pg.url), live.RasaApi((site.rasa.url,), API_TOKEN), options()
        assert live.request(db, settings, "pg-family")["status"] == "waiting"
        assert [row["quote"] for row in live.queue(db)["waiting"]] == ["I want to talk to a real person please"]
        live.take(db, api, settings, "pg-family", "responder", "Dana")
        live.send(db, api, "pg-family", "responder", "responder", STAFF_TEXT)
        store(pg.url, {"pg-family": [{**bot(STAFF_TEXT), "data": {
            "event": "bot", "text": STAFF_TEXT, "metadata": {"live_chat": {"kind": "staff", "name": "Dana"}}}}]},
            time.time())
        assert [m["text"] for m in live.family_updates(db, "pg-family", 0)["messages"]] == [STAFF_TEXT]
        assert [item["who"] for item in live.feed(db, "pg-family")] == ["family", "assistant", "staff"]
        live.hand_back(db, api, settings, "pg-family", "responder", "responder")
        assert live.latest(db, "pg-family")["status"] == "ended"
        an_hour_ago = datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(hours=1)
        live.request(db, settings, "pg-family", now=an_hour_ago)
        assert live.expire_overdue(db, settings, api) == ["pg-family"]
        assert [e["action"] for e in entries(db, sender_id="pg-family")] == [
            "live_expired", "live_hand_back", "live_take_over"]
        db.dispose()
    finally:
        with contextlib.suppress(Exception):  # not started: nothing to stop
            pg.pg_ctl("-m", "fast", "-w", "stop")
        shutil.rmtree(directory, ignore_errors=True)
