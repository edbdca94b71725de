"""The Flask application: family chat (bot.web.widget) and staff console (bot.staff)."""

from __future__ import annotations

import functools
from typing import Any

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.pool import NullPool
from werkzeug.middleware.proxy_fix import ProxyFix

from bot.core.settings import web_settings
from bot.web.config import secret_key


def create_app(settings: dict[str, Any] | None = None) -> Flask:
    settings = settings or web_settings()
    app = Flask(__name__)
    app.config.update(
        SETTINGS=settings,
        SECRET_KEY=secret_key(settings),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=bool(settings["session_cookie_secure"]),
        MAX_CONTENT_LENGTH=256 * 1024,
    )

    @app.get("/healthz")
    def healthz() -> tuple[dict[str, str], int]:
        """Up is not enough: the server must reach its database (the staff console and the conversation index read
        it). Rasa being down is the Rasa server's own health check; the proxy answers families calmly meanwhile."""
        if database_answers(settings["database_url"]):
            return {"status": "ok", "database": "ok"}, 200
        return {"status": "unhealthy", "database": "unreachable"}, 503

    from bot.staff import init_app as init_staff  # a broken staff dependency fails here, loudly
    from bot.web import live, widget

    widget.init_app(app)
    init_staff(app)
    live.init_app(app)  # after the console: the queue is its table
    trust_proxies(app, int(settings.get("trusted_proxies") or 0))
    return app


@functools.cache
def _health_engine(url: str) -> sa.engine.Engine:
    """Its own connection per check with short timeouts: a stuck database fails the check instead of hanging it."""
    if url.startswith("sqlite"):
        return sa.create_engine(url, poolclass=NullPool, connect_args={"timeout": 3})
    connect = {"connect_timeout": 3, "options": "-c statement_timeout=3000"} if url.startswith("postgres") else {}
    return sa.create_engine(url, poolclass=NullPool, connect_args=connect)


def database_answers(url: str) -> bool:
    try:
        with _health_engine(url).connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        return True
    except Exception:
        return False


def trust_proxies(app: Flask, count: int) -> None:
    """Take the visitor's address, scheme, host and port from the X-Forwarded-* headers of `count` proxies.

    Redirects (/staff -> /staff/, the login page) are built from them, so behind nginx they keep the port and
    scheme the visitor used. Each proxy appends its value, so only the last `count` values are believed: a header
    a visitor made up is further left and ignored. With 0 the headers are ignored.
    """
    if count > 0:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=count, x_proto=count, x_host=count, x_port=count, x_prefix=0
        )
