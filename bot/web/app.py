"""The Flask application: family chat (bot.web.widget) and staff console (bot.staff)."""

from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from bot.web.config import secret_key, web_settings


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
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    from bot.web import widget

    widget.init_app(app)
    try:
        from bot.staff import init_app as init_staff
    except ImportError:  # the staff console is optional in a widget-only deployment
        init_staff = None
    if init_staff is not None:
        init_staff(app)
    trust_proxies(app, int(settings.get("trusted_proxies") or 0))
    return app


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
