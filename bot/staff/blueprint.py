"""The /staff blueprint: login required everywhere but the login page and static files, CSRF on every unsafe
request, no caching and a strict content security policy on every answer."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy.engine import Engine

from bot.staff import accounts
from bot.staff.config import UTC, StaffSettings
from bot.staff.db import engine

bp = Blueprint("staff", __name__, url_prefix="/staff", template_folder="templates", static_folder="static")
csrf = CSRFProtect()
PUBLIC_ENDPOINTS = {"staff.login", "staff.static"}
KEYS = ("staff_uid", "staff_version", "staff_since")  # the session's login (set by auth.login)
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
}


def settings() -> StaffSettings:
    return current_app.extensions["staff"]


def db() -> Engine:
    return engine(settings().database_url)


def load_user() -> dict[str, Any] | None:
    """The logged-in staff member, if the session is valid, unexpired and the account unchanged."""
    uid, version, since = (session.get(key) for key in KEYS)
    if uid is None:
        return None
    user = accounts.get(db(), uid)
    expired = time.time() - (since or 0) > settings().session_hours * 3600
    if user is None or not user["active"] or user["session_version"] != version or expired:
        _forget()
        return None
    return user


def _forget() -> None:
    for key in KEYS:
        session.pop(key, None)


@bp.before_request
def _guard() -> Any | None:
    g.staff_user = load_user()
    if g.staff_user is None and request.endpoint not in PUBLIC_ENDPOINTS:
        if request.method in SAFE_METHODS:
            return redirect(url_for("staff.login", next=request.full_path.rstrip("?")))
        return render_template("error.html", title="Please log in", message="Your session has ended."), 401
    if request.method not in SAFE_METHODS:
        csrf.protect()
    return None


@bp.after_request
def _headers(response: Response) -> Response:
    response.headers.update(HEADERS)
    return response


@bp.errorhandler(CSRFError)
def _csrf_error(error: CSRFError) -> Any:
    message = "The form expired or did not come from this site. Go back, reload the page and try again."
    return render_template("error.html", title="Form refused", message=message), 400


@bp.errorhandler(403)
def _forbidden(error: Exception) -> Any:
    return render_template("error.html", title="Not allowed", message="This needs an admin account."), 403


@bp.errorhandler(404)
def _not_found(error: Exception) -> Any:
    return render_template("error.html", title="Not found", message="There is nothing here."), 404


@bp.app_template_filter("when")
def _when(value: Any, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """An epoch (Rasa's events) or a naive UTC datetime (staff_ tables) in the console's time zone."""
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        moment = value.replace(tzinfo=UTC)
    else:
        moment = datetime.fromtimestamp(float(value), UTC)
    return moment.astimezone(settings().tz).strftime(fmt)


@bp.context_processor
def _template_globals() -> dict:
    options = settings()
    return {"staff_user": g.get("staff_user"), "staff_tz": options.timezone, "staff_low": options.low_confidence}
