"""Logging in and out, and the role check. The session check of every request is blueprint.load_user."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

from flask import abort, flash, g, redirect, render_template, request, session, url_for

from bot.staff import accounts
from bot.staff.blueprint import bp, db, settings


def admin_required(view: Callable) -> Callable:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if g.staff_user["role"] != "admin":
            abort(403)
        return view(*args, **kwargs)

    return wrapper


def username() -> str:
    return g.staff_user["username"]


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    target = _safe_next(request.values.get("next"))
    if request.method == "GET":
        return redirect(target) if g.staff_user else _login_page(target)
    name = request.form.get("username", "").strip()[:64]
    options = settings()
    password = request.form.get("password", "")
    result = accounts.login(db(), name, password, options.lockout_attempts, options.lockout_minutes)
    if result.user is None:
        if result.locked_until:
            message = f"Too many failed logins: this account is locked for {options.lockout_minutes} minutes."
        else:
            message = "Wrong username or password."
        return _login_page(target, error=message, username=name), 401
    session.clear()  # a fresh session (and CSRF token) on every login
    session.update(staff_uid=result.user["id"], staff_version=result.user["session_version"], staff_since=time.time())
    return redirect(target)


@bp.post("/logout")
def logout() -> Any:
    session.clear()
    flash("You are logged out.")
    return redirect(url_for("staff.login"))


def _login_page(target: str, **context: Any) -> str:
    """The login form; while no account exists, with the command that creates the first administrator."""
    first_admin = "" if accounts.any_account(db()) else settings().first_admin_command
    return render_template("login.html", next=target, first_admin_command=first_admin, **context)


def _safe_next(target: str | None) -> str:
    """Only a path inside the console, never another site."""
    if target and target.startswith("/staff") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("staff.conversations")
