"""The staff console over HTTP, in process (Flask's test client) with test settings: its own store in a temporary
directory, filled with conversations as Rasa stores them: access control, CSRF, roles, lock-out, SQL injection,
audit log. The console on the real bot's conversations, in a browser, is tests/test_staff_browser.py."""

from __future__ import annotations

import html
import re
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from bot.core.settings import load_yaml, web_settings
from bot.processes import free_port
from bot.staff import accounts
from bot.staff.config import resolve_sqlite_path
from bot.staff.db import engine
from bot.web.app import create_app
from tests.staff_fixtures import PASSWORD
from tests.staff_store import action, bot, slot, store, user

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
HELPLINE = "1-800-662-4357"
PREFIX = "family-7c1e-"  # sender ids that appear nowhere else
DEVELOPERS_STORE = Path(resolve_sqlite_path(load_yaml("config/web.yml")["database_url"]).removeprefix("sqlite:///"))
CONVERSATIONS = {
    "information": [
        user("what are benzodiazepines?", "ask_what_are_benzodiazepines", 0.97),
        action("utter_ask_what_are_benzodiazepines"), bot("Benzodiazepines are prescription sedatives."),
    ],
    "emergency": [
        user("hello", "greet", 0.99), bot("Hello"),
        user("my son took a handful of xanax with vodka and now he won't wake up", "emergency_medical", 1.0,
             safety={"phrase": "won't wake up"}),
        slot("escalation_level", "emergency"), bot("Call 911 now."),
    ],
    "self_harm": [
        user("my daughter keeps saying she wants to kill herself", "emergency_self_harm", 1.0),
        slot("escalation_level", "emergency"), bot("Call or text 988 now."),
    ],
    "professional": [
        user("I want to talk to a real person please", "request_human", 0.93),
        slot("escalation_level", "professional"), bot(f"The SAMHSA National Helpline: {HELPLINE}."),
    ],
    "fallback": [
        user("qwpoeiru zxmvn alskdjf", "nlu_fallback", 0.31), action("utter_please_rephrase"),
        bot("Could you rephrase?"),
    ],
}


MESSAGES = [event["data"]["text"] for turns in CONVERSATIONS.values() for event in turns if "text" in event["data"]]


@dataclass
class Site:
    app: Flask
    db_path: Path
    database_url: str
    senders: dict[str, str]
    developers_store: tuple | None  # config/web.yml's store before the app was made


def fingerprint(path: Path) -> tuple | None:
    return (path.stat().st_mtime_ns, path.stat().st_size) if path.exists() else None


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    """The web app on its own store and secret key (never var/), Rasa nowhere, an admin and a reviewer."""
    directory = tmp_path_factory.mktemp("staff-http")
    db_path = directory / "conversations.db"
    url = f"sqlite:///{db_path}"
    store(url, CONVERSATIONS, time.time() - 3600, prefix=PREFIX)
    developers_store = fingerprint(DEVELOPERS_STORE)
    settings = {
        **web_settings(),
        "database_url": url,
        "secret_key_file": str(directory / "secret_key"),
        "rasa_url": f"http://127.0.0.1:{free_port()}",  # nothing listens there
        "session_cookie_secure": False,
    }
    app = create_app(settings)
    for username, role in (("admin", "admin"), ("reviewer", "reviewer")):
        accounts.create(engine(url), username, PASSWORD, role, by="test")
    return Site(app, db_path, url, {name: PREFIX + name for name in CONVERSATIONS}, developers_store)


def page(client: FlaskClient, path: str, **params: str) -> str:
    return client.get(path, query_string=params).get_data(as_text=True)


def login(site: Site, username: str, password: str = PASSWORD) -> FlaskClient:
    client = site.app.test_client()
    token = TOKEN.search(page(client, "/staff/login")).group(1)
    answer = client.post("/staff/login", data={"username": username, "password": password, "csrf_token": token})
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return client


def token(client: FlaskClient) -> str:
    return TOKEN.search(page(client, "/staff/")).group(1)


def staff_routes(app: Flask) -> list[tuple[str, str]]:
    """(method, path) of every /staff route but the login page and static files, with sample arguments."""
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/staff") or rule.endpoint in ("staff.login", "staff.static"):
            continue
        path = rule.rule.replace("<sender_id>", PREFIX + "emergency").replace("<name>", "admin")
        path = path.replace("<int:alert_id>", "1")
        routes += [(method, path) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return routes


def listed(client: FlaskClient, **params: str) -> set[str]:
    answer = client.get("/staff/", query_string=params)
    assert answer.status_code == 200
    return set(re.findall(r'/staff/conversations/([\w-]+)\?', answer.get_data(as_text=True)))


def test_the_app_uses_the_test_store_and_leaves_the_developers_store_alone(site: Site) -> None:
    assert site.app.extensions["staff"].database_url == site.database_url != f"sqlite:///{DEVELOPERS_STORE}"
    assert listed(login(site, "reviewer")) == set(site.senders.values())
    assert fingerprint(DEVELOPERS_STORE) == site.developers_store


def test_every_staff_route_refuses_an_anonymous_visitor(site: Site) -> None:
    routes = staff_routes(site.app)
    assert len(routes) >= 15
    client = site.app.test_client()
    for method, path in routes:
        answer = client.open(path, method=method, data={"x": "1"})
        assert answer.status_code in (302, 401, 403), (method, path, answer.status_code)
        if answer.status_code == 302:
            assert answer.headers["Location"].startswith("/staff/login")
        body = answer.get_data(as_text=True)
        assert not [text for text in MESSAGES if text in body or html.escape(text) in body], (method, path)


def test_a_form_without_csrf_token_is_refused(site: Site) -> None:
    client = login(site, "reviewer")
    conversation = f"/staff/conversations/{site.senders['information']}"
    assert client.post(f"{conversation}/tags", data={"tag": "no-token"}).status_code == 400
    assert client.post(f"{conversation}/tags", data={"tag": "no-token", "csrf_token": "forged"}).status_code == 400
    assert "no-token" not in page(client, conversation)
    answer = client.post(f"{conversation}/tags", data={"tag": "with-token", "csrf_token": token(client)},
                         follow_redirects=True)
    assert answer.status_code == 200
    assert "with-token" in page(client, conversation)
    # logging in also needs the token
    without = site.app.test_client().post("/staff/login", data={"username": "admin", "password": PASSWORD})
    assert without.status_code == 400


def test_the_family_chat_proxy_needs_no_csrf_token(site: Site) -> None:
    """No token, no session: the proxy forwards the turn (here to a Rasa that is down: the calm 503 reply)."""
    answer = site.app.test_client().post("/webhooks/rest/webhook", json={"sender": "csrf-check", "message": "hi"})
    assert answer.status_code == 503
    assert HELPLINE in answer.get_json()[0]["text"]


def test_a_reviewer_cannot_reach_admin_actions(site: Site) -> None:
    client = login(site, "reviewer")
    csrf = token(client)
    sender = site.senders["information"]
    for path in ("/staff/users", "/staff/audit"):
        assert client.get(path).status_code == 403
    for path, data in (
        ("/staff/users", {"username": "mallory", "password": "x" * 20, "role": "admin"}),
        ("/staff/users/reviewer", {"role": "admin"}),
        ("/staff/users/admin", {"active": "0"}),
        (f"/staff/conversations/{sender}/delete", {"confirm": sender}),
    ):
        assert client.post(path, data={**data, "csrf_token": csrf}).status_code == 403
    assert sender in listed(client)  # not deleted
    assert {user["username"] for user in accounts.all_users(engine(site.database_url))} >= {"admin", "reviewer"}
    assert "mallory" not in {user["username"] for user in accounts.all_users(engine(site.database_url))}


INJECTIONS = ["' OR '1'='1", "x'; DROP TABLE events; --", "1 OR 1=1", "') OR ('a'='a", "%' --", "\" OR \"\"=\""]


def test_sql_injection_in_search_and_filters_changes_nothing(site: Site) -> None:
    client = login(site, "reviewer")
    with sqlite3.connect(site.db_path) as db:
        before = db.execute("select count(*) from events").fetchone()[0]
    everything = listed(client)
    for attack in INJECTIONS:
        for key in ("q", "intent", "tag", "escalation", "reviewed", "from", "to", "low", "page"):
            found = listed(client, **{key: attack})
            assert found <= everything, (key, attack)
            if key in ("q", "intent", "tag"):
                assert found == set(), (key, attack)
        for export in ("conversations.json", "conversations.csv"):
            assert client.get(f"/staff/export/{export}", query_string={"q": attack}).status_code == 200
    with sqlite3.connect(site.db_path) as db:
        assert db.execute("select count(*) from events").fetchone()[0] == before
        assert db.execute("select count(*) from staff_users").fetchone()[0] >= 2


def test_escalation_filter_finds_the_emergencies(site: Site) -> None:
    client = login(site, "reviewer")
    senders = site.senders
    assert listed(client, escalation="emergency") == {senders["emergency"], senders["self_harm"]}
    assert listed(client, escalation="professional") == {senders["professional"]}
    assert listed(client, low="1") == {senders["fallback"]}
    assert listed(client, q="WON'T WAKE") == {senders["emergency"]}


def test_lockout_after_five_failed_logins(site: Site) -> None:
    accounts.create(engine(site.database_url), "locky", PASSWORD, "reviewer", by="test")
    client = site.app.test_client()
    for attempt in range(6):
        csrf = TOKEN.search(page(client, "/staff/login")).group(1)
        password = PASSWORD if attempt == 5 else "wrong password"
        answer = client.post("/staff/login", data={"username": "locky", "password": password, "csrf_token": csrf})
        assert answer.status_code == 401
    assert "locked" in answer.get_data(as_text=True)


def test_views_and_changes_are_audited_for_admins(site: Site) -> None:
    reviewer = login(site, "reviewer")
    sender = site.senders["self_harm"]
    assert reviewer.get(f"/staff/conversations/{sender}").status_code == 200
    reviewer.post(f"/staff/conversations/{sender}/review", data={"reviewed": "1", "csrf_token": token(reviewer)})
    log = page(login(site, "admin"), "/staff/audit", sender_id=sender)
    assert re.search(r"reviewer</td><td>view</td>", log) and re.search(r"reviewer</td><td>reviewed</td>", log)


def test_logout_ends_the_session(site: Site) -> None:
    client = login(site, "reviewer")
    assert client.post("/staff/logout", data={"csrf_token": token(client)}, follow_redirects=True).status_code == 200
    assert client.get("/staff/").status_code == 302
