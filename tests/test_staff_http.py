"""The staff console over HTTP on the real web server and the real bot's store: access control, CSRF, roles,
lock-out, SQL injection, audit log."""

from __future__ import annotations

import re
import sqlite3

import pytest
import requests

from tests.staff_fixtures import PASSWORD, StaffSite, create_user, staff_conversations, staff_web  # noqa: F401

pytestmark = pytest.mark.servers
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def login(site: StaffSite, username: str, password: str = PASSWORD) -> requests.Session:
    session = requests.Session()
    token = TOKEN.search(session.get(f"{site.url}/staff/login").text).group(1)
    answer = session.post(f"{site.url}/staff/login", data={"username": username, "password": password,
                                                           "csrf_token": token}, allow_redirects=False)
    assert answer.status_code == 302, answer.text
    return session


def token(session: requests.Session, site: StaffSite) -> str:
    return TOKEN.search(session.get(f"{site.url}/staff/").text).group(1)


def staff_routes() -> list[tuple[str, str]]:
    """(method, path) of every /staff route but the login page and static files, with sample arguments."""
    from bot.web.app import create_app

    app = create_app()
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/staff") or rule.endpoint in ("staff.login", "staff.static"):
            continue
        path = rule.rule.replace("<sender_id>", "staff-emergency-x").replace("<name>", "admin")
        routes += [(method, path) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return routes


def listed(session: requests.Session, site: StaffSite, **params: str) -> set[str]:
    answer = session.get(f"{site.url}/staff/", params=params)
    assert answer.status_code == 200
    return set(re.findall(r'/staff/conversations/([\w-]+)\?', answer.text))


def test_every_staff_route_refuses_an_anonymous_visitor(staff_web: StaffSite) -> None:  # noqa: F811
    routes = staff_routes()
    assert len(routes) >= 15
    for method, path in routes:
        answer = requests.request(method, staff_web.url + path, allow_redirects=False, data={"x": "1"})
        assert answer.status_code in (302, 401, 403), (method, path, answer.status_code)
        if answer.status_code == 302:
            assert answer.headers["Location"].startswith("/staff/login")
        for sender in staff_web.senders.values():
            assert sender not in answer.text


def test_a_form_without_csrf_token_is_refused(staff_web: StaffSite) -> None:  # noqa: F811
    session = login(staff_web, "reviewer")
    sender = staff_web.senders["information"]
    url = f"{staff_web.url}/staff/conversations/{sender}/tags"
    assert session.post(url, data={"tag": "no-token"}).status_code == 400
    assert session.post(url, data={"tag": "no-token", "csrf_token": "forged"}).status_code == 400
    assert "no-token" not in session.get(f"{staff_web.url}/staff/conversations/{sender}").text
    assert session.post(url, data={"tag": "with-token", "csrf_token": token(session, staff_web)}).status_code == 200
    assert "with-token" in session.get(f"{staff_web.url}/staff/conversations/{sender}").text
    # logging in also needs the token
    without = requests.post(f"{staff_web.url}/staff/login", data={"username": "admin", "password": PASSWORD})
    assert without.status_code == 400


def test_the_family_chat_proxy_needs_no_csrf_token(staff_web: StaffSite) -> None:  # noqa: F811
    answer = requests.post(f"{staff_web.url}/webhooks/rest/webhook", json={"sender": "csrf-check", "message": "hi"})
    assert answer.status_code == 200


def test_a_reviewer_cannot_reach_admin_actions(staff_web: StaffSite) -> None:  # noqa: F811
    session = login(staff_web, "reviewer")
    csrf = token(session, staff_web)
    sender = staff_web.senders["information"]
    for path in ("/staff/users", "/staff/audit"):
        assert session.get(staff_web.url + path).status_code == 403
    for path, data in (
        ("/staff/users", {"username": "mallory", "password": "x" * 20, "role": "admin"}),
        ("/staff/users/reviewer", {"role": "admin"}),
        ("/staff/users/admin", {"active": "0"}),
        (f"/staff/conversations/{sender}/delete", {"confirm": sender}),
    ):
        assert session.post(staff_web.url + path, data={**data, "csrf_token": csrf}).status_code == 403
    assert sender in listed(session, staff_web)  # not deleted


INJECTIONS = ["' OR '1'='1", "x'; DROP TABLE events; --", "1 OR 1=1", "') OR ('a'='a", "%' --", "\" OR \"\"=\""]


def test_sql_injection_in_search_and_filters_changes_nothing(staff_web: StaffSite) -> None:  # noqa: F811
    session = login(staff_web, "reviewer")
    with sqlite3.connect(staff_web.db_path) as db:
        before = db.execute("select count(*) from events").fetchone()[0]
    everything = listed(session, staff_web)
    for attack in INJECTIONS:
        for key in ("q", "intent", "tag", "escalation", "reviewed", "from", "to", "low", "page"):
            found = listed(session, staff_web, **{key: attack})
            assert found <= everything, (key, attack)
            if key in ("q", "intent", "tag"):
                assert found == set(), (key, attack)
        for export in ("conversations.json", "conversations.csv"):
            assert session.get(f"{staff_web.url}/staff/export/{export}", params={"q": attack}).status_code == 200
    with sqlite3.connect(staff_web.db_path) as db:
        assert db.execute("select count(*) from events").fetchone()[0] >= before  # the bot may add, never lose
        assert db.execute("select count(*) from staff_users").fetchone()[0] >= 2


def test_escalation_filter_finds_the_emergencies(staff_web: StaffSite) -> None:  # noqa: F811
    session = login(staff_web, "reviewer")
    emergencies = listed(session, staff_web, escalation="emergency")
    assert staff_web.senders["emergency"] in emergencies
    assert staff_web.senders["information"] not in emergencies
    assert staff_web.senders["professional"] in listed(session, staff_web, escalation="professional")
    assert staff_web.senders["fallback"] in listed(session, staff_web, low="1")
    assert staff_web.senders["emergency"] in listed(session, staff_web, q="WON'T WAKE")


def test_lockout_after_five_failed_logins(staff_web: StaffSite) -> None:  # noqa: F811
    assert create_user(staff_web.database_url, "locky", "reviewer").returncode == 0
    session = requests.Session()
    for attempt in range(6):
        csrf = TOKEN.search(session.get(f"{staff_web.url}/staff/login").text).group(1)
        password = PASSWORD if attempt == 5 else "wrong password"
        answer = session.post(f"{staff_web.url}/staff/login", allow_redirects=False,
                              data={"username": "locky", "password": password, "csrf_token": csrf})
        assert answer.status_code == 401
    assert "locked" in answer.text


def test_views_and_changes_are_audited_for_admins(staff_web: StaffSite) -> None:  # noqa: F811
    reviewer = login(staff_web, "reviewer")
    sender = staff_web.senders["self_harm"]
    assert reviewer.get(f"{staff_web.url}/staff/conversations/{sender}").status_code == 200
    csrf = token(reviewer, staff_web)
    reviewer.post(f"{staff_web.url}/staff/conversations/{sender}/review", data={"reviewed": "1", "csrf_token": csrf})
    log = login(staff_web, "admin").get(f"{staff_web.url}/staff/audit", params={"sender_id": sender}).text
    assert re.search(r"reviewer</td><td>view</td>", log) and re.search(r"reviewer</td><td>reviewed</td>", log)


def test_logout_ends_the_session(staff_web: StaffSite) -> None:  # noqa: F811
    session = login(staff_web, "reviewer")
    answer = session.post(f"{staff_web.url}/staff/logout", data={"csrf_token": token(session, staff_web)})
    assert answer.status_code == 200
    assert session.get(f"{staff_web.url}/staff/", allow_redirects=False).status_code == 302
