"""The web server's redirects behind proxies (X-Forwarded-* trusted by count, config/web.yml `trusted_proxies`) and
the login page before any staff account exists. Flask's test client on a temporary SQLite store; no servers (the
production tests check the same through nginx)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest
from flask import Flask

from bot.staff import accounts
from bot.staff.db import engine
from bot.web.app import create_app
from bot.web.config import web_settings

NGINX = "http://127.0.0.1:8100"  # the address the web server has behind nginx (what a visitor must never see)


@pytest.fixture
def make_app(tmp_path: Path) -> Callable[..., Flask]:
    def make(**overrides: Any) -> Flask:
        settings = {**web_settings(), "database_url": f"sqlite:///{tmp_path / 'store.db'}",
                    "secret_key_file": str(tmp_path / "secret"), **overrides}
        return create_app(settings)

    return make


def forwarded(proto: str, host: str, port: str) -> dict[str, str]:
    return {"X-Forwarded-Proto": proto, "X-Forwarded-Host": host, "X-Forwarded-Port": port}


@pytest.mark.parametrize(
    "trusted, base_url, headers, location",
    [
        # make run: browsers talk to the web server directly; headers anyone can send are ignored
        (0, "http://localhost:8000", forwarded("https", "evil.example", "443"), "http://localhost:8000/staff/"),
        # behind nginx (as config/prod/nginx.conf.template sends them): the visitor's host and port
        (1, NGINX, forwarded("http", "127.0.0.1:8080", "8080"), "http://127.0.0.1:8080/staff/"),
        (1, NGINX, forwarded("http", "chat.example.org", "80"), "http://chat.example.org/staff/"),
        # a visitor's own X-Forwarded-* values, appended to by nginx: only nginx's last value counts
        (1, NGINX, forwarded("https, http", "evil.example, 127.0.0.1:8080", "443, 8080"),
         "http://127.0.0.1:8080/staff/"),
        # a TLS proxy in front of nginx (trusted_proxies: 2): its values, which nginx passed on
        (2, NGINX, forwarded("https, http", "chat.example.org, 10.0.0.5:8080", "443, 8080"),
         "https://chat.example.org/staff/"),
        (2, NGINX, forwarded("http, https, http", "evil.example, chat.example.org:8443, 10.0.0.5:8080",
                             "80, 8443, 8080"), "https://chat.example.org:8443/staff/"),
    ],
    ids=["direct", "nginx", "nginx-port-80", "nginx-forged", "tls-proxy-and-nginx", "tls-proxy-forged"],
)
def test_staff_without_slash_redirects_to_the_visitors_scheme_host_and_port(
    make_app: Callable[..., Flask], trusted: int, base_url: str, headers: dict[str, str], location: str
) -> None:
    client = make_app(trusted_proxies=trusted).test_client()
    answer = client.get("/staff", base_url=base_url, headers=headers)
    assert answer.status_code == 308
    assert answer.headers["Location"] == location
    # the next hop, the login page, is a path: the browser keeps the scheme, host and port it used
    login = client.get("/staff/", base_url=base_url, headers=headers)
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
