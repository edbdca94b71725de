"""The staff side of the live hand-off (bot.staff.live): the live queue, taking a conversation over, writing to the
family, handing back. Only the roles of config/live_chat.yml (`roles`: responder and admin) see or do any of it;
every form and every POST carries the console's CSRF token (Flask-WTF, checked by the blueprint).

Both pages poll (`poll_seconds`), as the alerts view does (bot.staff.alert_views says why not a stream).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import abort, current_app, flash, g, jsonify, redirect, render_template, request, url_for

from bot.core.live_chat import LiveChat
from bot.staff import live
from bot.staff.auth import username
from bot.staff.blueprint import bp, db


def options() -> LiveChat | None:
    return current_app.extensions.get("live_chat")


def may_take_over() -> bool:
    user, settings = g.get("staff_user"), options()
    return bool(user) and settings is not None and user["role"] in settings.roles


def live_role_required(view: Callable) -> Callable:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not may_take_over():
            abort(403)
        return view(*args, **kwargs)

    return wrapper


def _api() -> live.RasaApi:
    return current_app.extensions["rasa_api"]


def _expire() -> None:
    settings = options()
    if settings is not None and settings.enabled:
        live.expire_overdue(db(), settings, _api())


@bp.context_processor
def _live_globals() -> dict[str, Any]:
    """The navigation's "Live chat" link with the number waiting, when live chat is on."""
    settings = options()
    if not may_take_over() or settings is None or not settings.enabled:
        return {"live_nav": None}
    return {"live_nav": {"waiting": live.waiting_count(db()), "refresh": settings.poll_seconds * 2}}


@bp.get("/live")
@live_role_required
def live_queue() -> Any:
    settings = options()
    assert settings is not None
    if not settings.enabled:
        abort(404)
    _expire()
    return render_template("live.html", data=live.queue(db()), live=settings, staffed=settings.staffed())


@bp.get("/live/queue")
@live_role_required
def live_queue_poll() -> Any:
    """{"waiting": n, "html": the queue} for the queue page and the navigation's count."""
    _expire()
    data = live.queue(db())
    return jsonify({"waiting": len(data["waiting"]), "html": render_template("_live_queue.html", data=data)})


@bp.post("/live/<sender_id>/take")
@live_role_required
def live_take(sender_id: str) -> Any:
    settings = options()
    assert settings is not None
    try:
        live.take(db(), _api(), settings, sender_id, username(), request.form.get("name", ""))
    except live.LiveChatError as error:
        flash(str(error), "error")
        return redirect(url_for("staff.live_queue"))
    return redirect(url_for("staff.live_chat", sender_id=sender_id))


@bp.get("/live/<sender_id>/chat")
@live_role_required
def live_chat(sender_id: str) -> Any:
    row = live.latest(db(), sender_id)
    if row is None:
        abort(404)
    items = live.feed(db(), sender_id)
    mine = row["status"] == live.ACTIVE and (row["taken_by"] == username() or g.staff_user["role"] == "admin")
    return render_template("live_chat.html", row=row, items=items, mine=mine, sender_id=sender_id,
                           after=max((item["id"] for item in items), default=0), refresh=options().poll_seconds)


@bp.get("/live/<sender_id>/feed")
@live_role_required
def live_feed(sender_id: str) -> Any:
    """New messages after ?after=N (the page escapes them: textContent), and the hand-off's state."""
    after = request.args.get("after", type=int) or 0
    row = live.latest(db(), sender_id)
    if row is None:
        abort(404)
    items = live.feed(db(), sender_id, after) if after else []
    return jsonify({"status": row["status"], "items": items,
                    "after": max([after, *(item["id"] for item in items)])})


@bp.post("/live/<sender_id>/send")
@live_role_required
def live_send(sender_id: str) -> Any:
    wants_json = request.accept_mimetypes.best == "application/json"
    try:
        live.send(db(), _api(), sender_id, username(), g.staff_user["role"], request.form.get("text", ""))
    except live.LiveChatError as error:
        if wants_json:
            return jsonify({"ok": False, "error": str(error)}), 409
        flash(str(error), "error")
    if wants_json:
        return jsonify({"ok": True})
    return redirect(url_for("staff.live_chat", sender_id=sender_id))


@bp.post("/live/<sender_id>/hand-back")
@live_role_required
def live_hand_back(sender_id: str) -> Any:
    settings = options()
    assert settings is not None
    try:
        live.hand_back(db(), _api(), settings, sender_id, username(), g.staff_user["role"])
    except live.LiveChatError as error:
        flash(str(error), "error")
        return redirect(url_for("staff.live_chat", sender_id=sender_id))
    flash("Handed back to the assistant.")
    return redirect(url_for("staff.live_queue"))
