"""The reviewer's pages: the conversation list, a transcript with its changes, the dashboard."""

from __future__ import annotations

import time
from typing import Any

from flask import abort, flash, redirect, render_template, request, send_file, url_for

from bot.core.settings import PROJECT_ROOT
from bot.staff import changes, index, queries
from bot.staff import intents as known
from bot.staff.audit import record
from bot.staff.auth import username
from bot.staff.blueprint import bp, db, settings
from bot.staff.filters import ESCALATIONS, Filters
from bot.staff.safety_decisions import OUTCOMES

CHART_JS = PROJECT_ROOT / "node_modules" / "chart.js" / "dist" / "chart.umd.js"


def _refreshed() -> None:
    index.refresh(db(), settings().low_confidence)


@bp.get("/")
def conversations() -> Any:
    _refreshed()
    filters = Filters.from_args(request.args)
    page = queries.list_page(db(), filters, settings().tz, _int(request.args.get("page"), 1), settings().page_size)
    return render_template(
        "list.html", page=page, filters=filters, escalations=ESCALATIONS, intents=known.domain_intents(),
        safety_choices=[("any", "Any safety decision"), *OUTCOMES.items()],
        tags=queries.known_tags(db()), flag_count=queries.flag_count(db()),
    )


@bp.get("/conversations/<sender_id>")
def transcript(sender_id: str) -> Any:
    _refreshed()
    summary = queries.conversation(db(), sender_id)
    if summary is None:
        abort(404)
    with db().begin() as conn:
        record(conn, username(), "view", sender_id)
    return render_template(
        "transcript.html", c=summary, messages=queries.transcript(db(), sender_id), intents=known.domain_intents(),
        back=_back(),
    )


@bp.post("/conversations/<sender_id>/flag")
def flag(sender_id: str) -> Any:
    message = queries.user_message(db(), sender_id, _int(request.form.get("event_id"), 0))
    corrected = request.form.get("intent", "")
    if message is None or corrected not in known.domain_intents():
        abort(400)
    changes.flag(db(), username(), sender_id, message.event_id, message.intent, corrected)
    flash(f"Flagged: should have been {corrected}.")
    return _to_transcript(sender_id, f"m{message.event_id}")


@bp.post("/conversations/<sender_id>/unflag")
def unflag(sender_id: str) -> Any:
    event_id = _int(request.form.get("event_id"), 0)
    changes.unflag(db(), username(), sender_id, event_id)
    flash("Flag removed.")
    return _to_transcript(sender_id, f"m{event_id}")


@bp.post("/conversations/<sender_id>/tags")
def tag(sender_id: str) -> Any:
    _known(sender_id)
    try:
        if request.form.get("remove"):
            changes.remove_tag(db(), username(), sender_id, request.form["remove"])
        else:
            changes.add_tag(db(), username(), sender_id, request.form.get("tag", ""))
    except changes.ChangeError as error:
        flash(str(error), "error")
    return _to_transcript(sender_id, "tags")


@bp.post("/conversations/<sender_id>/notes")
def note(sender_id: str) -> Any:
    _known(sender_id)
    try:
        changes.add_note(db(), username(), sender_id, request.form.get("body", ""))
    except changes.ChangeError as error:
        flash(str(error), "error")
    return _to_transcript(sender_id, "notes")


@bp.post("/conversations/<sender_id>/review")
def review(sender_id: str) -> Any:
    _known(sender_id)
    reviewed = request.form.get("reviewed") == "1"
    changes.set_reviewed(db(), username(), sender_id, reviewed)
    flash("Marked as reviewed." if reviewed else "Marked as not reviewed.")
    return _to_transcript(sender_id)


@bp.get("/dashboard")
def dashboard() -> Any:
    _refreshed()
    days = min(max(_int(request.args.get("days"), 30), 1), 366)
    figures = queries.dashboard(db(), settings().tz, time.time() - days * 86400)
    return render_template("dashboard.html", figures=figures, days=days)


def _known(sender_id: str) -> None:
    if queries.conversation(db(), sender_id) is None:
        abort(404)


def _to_transcript(sender_id: str, anchor: str = "") -> Any:
    return redirect(url_for("staff.transcript", sender_id=sender_id, back=_back()) + (f"#{anchor}" if anchor else ""))


def _back() -> str:
    """The list URL (with its filters) to return to; only a path of the console."""
    back = request.values.get("back", "")
    return back if back.startswith("/staff/") and not back.startswith("//") else url_for("staff.conversations")


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


@bp.get("/vendor/chart.umd.js")
def chart_js() -> Any:
    """Chart.js from the project's npm packages (make setup), never from a CDN."""
    if not CHART_JS.exists():
        abort(404)
    return send_file(CHART_JS, mimetype="text/javascript")
