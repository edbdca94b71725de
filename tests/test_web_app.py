"""The web server's redirects behind proxies (X-Forwarded-* trusted by count, config/web.yml `trusted_proxies`) and
the login page before any staff account exists. The app on a temporary SQLite store, served by waitress in a thread
as `python -m bot.web` serves it (waitress drops proxy headers of its own accord), or through Flask's test client
(the production tests check the same through nginx)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable

import pytest
import requests
from flask import Flask
from waitress.server import create_server

from bot.core.settings import web_settings
from bot.staff import accounts
from bot.staff.db import engine
from bot.web.__main__ import waitress_options
from bot.web.app import create_app


@pytest.fixture
def make_app(tmp_path: Path) -> Callable[..., Flask]:
    def make(**overrides: Any) -> Flask:
        settings = {**web_settings(), "database_url": f"sqlite:///{tmp_path / 'store.db'}",
                    "secret_key_file": str(tmp_path / "secret"), **overrides}
        return create_app(settings)

    return make


@contextmanager
def served(app: Flask, trusted: int) -> Iterator[str]:
    """The app behind waitress with the options of `python -m bot.web`; its address."""
    server = create_server(app, host="127.0.0.1", port=0, **waitress_options({"trusted_proxies": trusted}))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        for channel in list(server._map.values()):  # the listener, its trigger and open connections: the loop ends
            channel.close()
        server.task_dispatcher.shutdown()
        thread.join(10)
        assert not thread.is_alive()


def forwarded(host: str, proto: str, fwd_host: str, port: str) -> dict[str, str]:
    """The headers the web server gets: the Host header and X-Forwarded-Proto/-Host/-Port."""
    return {"Host": host, "X-Forwarded-Proto": proto, "X-Forwarded-Host": fwd_host, "X-Forwarded-Port": port}


@pytest.mark.parametrize(
    "trusted, headers, location",
    [
        # make run: browsers talk to the web server directly; headers anyone can send are ignored
        (0, forwarded("localhost:8000", "https", "evil.example", "443"), "http://localhost:8000/staff/"),
        # behind nginx (as config/prod/nginx.conf.template sends them): the visitor's host and port
        (1, forwarded("web:8100", "http", "127.0.0.1:8080", "8080"), "http://127.0.0.1:8080/staff/"),
        (1, forwarded("web:8100", "http", "chat.example.org", "80"), "http://chat.example.org/staff/"),
        # a visitor's own X-Forwarded-* values, appended to by nginx: only nginx's last value counts
        (1, forwarded("web:8100", "https, http", "evil.example, 127.0.0.1:8080", "443, 8080"),
         "http://127.0.0.1:8080/staff/"),
        # a TLS proxy in front of nginx (trusted_proxies: 2): its values, which nginx passed on
        (2, forwarded("web:8100", "https, http", "chat.example.org, 10.0.0.5:8080", "443, 8080"),
         "https://chat.example.org/staff/"),
        (2, forwarded("web:8100", "http, https, http", "evil.example, chat.example.org:8443, 10.0.0.5:8080",
                      "80, 8443, 8080"), "https://chat.example.org:8443/staff/"),
    ],
    ids=["direct", "nginx", "nginx-port-80", "nginx-forged", "tls-proxy-and-nginx", "tls-proxy-forged"],
)
def test_staff_without_slash_redirects_to_the_visitors_scheme_host_and_port(
    make_app: Callable[..., Flask], trusted: int, headers: dict[str, str], location: str
) -> None:
    with served(make_app(trusted_proxies=trusted), trusted) as url:
        answer = requests.get(f"{url}/staff", headers=headers, allow_redirects=False, timeout=10)
        assert answer.status_code == 308
        assert answer.headers["Location"] == location
        # the next hop, the login page, is a path: the browser keeps the scheme, host and port it used
        login = requests.get(f"{url}/staff/", headers=headers, allow_redirects=False, timeout=10)
        assert login.status_code == 302 and login.headers["Location"] == "/staff/login?next=/staff/"


def test_the_login_page_names_the_command_for_the_first_admin_until_an_account_exists(
    make_app: Callable[..., Flask], tmp_path: Path
) -> None:
    app = make_app(first_admin_command="make staff-user PROFILE=prod NAME=yourname ROLE=admin")
    client = app.test_client()
    page = client.get("/staff/login").get_data(as_text=True)
    assert "No staff account exists yet" in page
    assert "<code>make staff-user PROFILE=prod NAME=yourname ROLE=admin</code>" in page
    assert "There is no default account" in page
    assert 'type="password" autocomplete="current-password" required>' in page  # never pre-filled
    # a failed login (nobody can log in yet) shows it too
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    failed = client.post("/staff/login", data={"username": "admin", "password": "admin", "csrf_token": token})
    assert failed.status_code == 401 and "No staff account exists yet" in failed.get_data(as_text=True)

    accounts.create(engine(app.extensions["staff"].database_url), "first-admin", "x" * 12, "admin", by="test")
    page = client.get("/staff/login").get_data(as_text=True)
    assert "No staff account exists yet" not in page and "make staff-user" not in page
    assert 'name="username"' in page
