"""The "Needs attention" view: open alerts, live (the page and the navigation's count poll /staff/alerts/live), and
marking one handled. Only the roles of config/alerts.yml (`roles`) may see or handle alerts.

Polling, not server-sent events: waitress serves with a fixed pool of threads (bot.web.__main__), and an event
stream holds one for as long as a console tab is open, so a few open consoles would starve the family chat proxy;
behind nginx it would also need buffering off and a read timeout longer than the stream. A poll is one short request
(a count, or a list of a few rows) every console_refresh_seconds, and survives restarts of any service by itself.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import abort, flash, g, jsonify, redirect, render_template, request, url_for

from bot.staff import alerts
from bot.staff.auth import username
from bot.staff.blueprint import bp, db


def may_see_alerts() -> bool:
    user = g.get("staff_user")
    return bool(user) and user["role"] in alerts.console_alert_settings().roles


def alerts_role_required(view: Callable) -> Callable:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not may_see_alerts():
            abort(403)
        return view(*args, **kwargs)

    return wrapper


@bp.context_processor
def _alert_globals() -> dict[str, Any]:
    """The navigation's count, on every console page of a user who may see alerts."""
    if not may_see_alerts():
        return {"alerts_nav": None}
    settings = alerts.console_alert_settings()
    return {"alerts_nav": {"open": alerts.open_count(db()), "refresh": settings.console_refresh_seconds}}


@bp.get("/alerts")
@alerts_role_required
def alerts_page() -> Any:
    settings = alerts.console_alert_settings()
    return render_template("alerts.html", data=alerts.listing(db()), channels=settings.channels)


@bp.get("/alerts/live")
@alerts_role_required
def alerts_live() -> Any:
    """{"open": n} for the navigation; with ?list=1 also the list as HTML (rendered and escaped here)."""
    answer: dict[str, Any] = {"open": alerts.open_count(db())}
    if request.args.get("list") == "1":
        settings = alerts.console_alert_settings()
        answer["html"] = render_template("_alerts_list.html", data=alerts.listing(db()), channels=settings.channels)
    return jsonify(answer)


@bp.post("/alerts/<int:alert_id>/handle")
@alerts_role_required
def handle_alert(alert_id: int) -> Any:
    if not alerts.handle(db(), username(), alert_id):
        abort(404)
    flash("Marked as handled.")
    return redirect(url_for("staff.alerts_page"))


@bp.post("/alerts/<int:alert_id>/retry")
@alerts_role_required
def retry_alert(alert_id: int) -> Any:
    count = alerts.retry(db(), username(), alert_id)
    flash(f"Sending again ({count})." if count else "Nothing to send again.")
    return redirect(url_for("staff.alerts_page"))
