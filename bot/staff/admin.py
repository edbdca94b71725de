"""Admin-only pages: staff accounts, the audit log, deleting a conversation."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for

from bot.staff import accounts, audit, changes, queries
from bot.staff.auth import admin_required, username
from bot.staff.blueprint import bp, db


@bp.get("/users")
@admin_required
def users() -> Any:
    return render_template("users.html", users=accounts.all_users(db()), roles=accounts.ROLES,
                           now=audit.utcnow(), min_password=accounts.MIN_PASSWORD)


@bp.post("/users")
@admin_required
def create_user() -> Any:
    form = request.form
    name = form.get("username", "").strip()
    try:
        accounts.create(db(), name, form.get("password", ""), form.get("role", ""), username())
        flash(f"Created {name}.")
    except accounts.AccountError as error:
        flash(str(error), "error")
    return redirect(url_for("staff.users"))


@bp.post("/users/<name>")
@admin_required
def update_user(name: str) -> Any:
    form = request.form
    if name == username() and (form.get("role") not in (None, "admin") or form.get("active") == "0"):
        flash("You cannot demote or disable your own account.", "error")
        return redirect(url_for("staff.users"))
    try:
        accounts.update(
            db(), name, username(),
            password=form.get("password") or None,
            role=form.get("role") or None,
            active={"1": True, "0": False}.get(form.get("active", "")),
            unlock=form.get("unlock") == "1",
        )
        flash(f"Updated {name}.")
    except accounts.AccountError as error:
        flash(str(error), "error")
    return redirect(url_for("staff.users"))


@bp.get("/audit")
@admin_required
def audit_log() -> Any:
    page = max(1, int(request.args.get("page", "1")) if request.args.get("page", "1").isdigit() else 1)
    sender_id = request.args.get("sender_id", "")[:255]
    return render_template("audit.html", entries=audit.entries(db(), page, 100, sender_id or None), page=page,
                           sender_id=sender_id)


@bp.post("/conversations/<sender_id>/delete")
@admin_required
def delete_conversation(sender_id: str) -> Any:
    if queries.conversation(db(), sender_id) is None:
        abort(404)
    if request.form.get("confirm") != sender_id:
        flash("Type the conversation id to confirm the deletion.", "error")
        return redirect(url_for("staff.transcript", sender_id=sender_id))
    changes.delete_conversations(db(), username(), [sender_id], "deleted by an admin")
    flash("The conversation was deleted.")
    return redirect(url_for("staff.conversations"))
