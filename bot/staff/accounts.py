"""Staff accounts: argon2 password hashes, roles, and the lock-out after repeated failed logins."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.engine import Engine

from bot.staff.audit import record, utcnow
from bot.staff.db import users

ROLES = ("reviewer", "responder", "admin")  # responder: a reviewer who also gets alerts (config/alerts.yml)
USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{2,64}$")
MIN_PASSWORD = 12
_hasher = PasswordHasher()
# Verified against when the username is unknown, so a login takes as long either way.
_DUMMY_HASH = _hasher.hash("not a password of anyone")


class AccountError(ValueError):
    """An invalid account change (the message is safe to show)."""


@dataclass(frozen=True)
class LoginResult:
    user: dict[str, Any] | None = None
    locked_until: datetime | None = None


def validate(username: str, password: str | None, role: str | None) -> None:
    if not USERNAME.match(username):
        raise AccountError("A username is 2-64 letters, digits or . _ @ -")
    if password is not None and len(password) < MIN_PASSWORD:
        raise AccountError(f"A password has at least {MIN_PASSWORD} characters.")
    if role is not None and role not in ROLES:
        raise AccountError(f"The role is one of {', '.join(ROLES)}.")


def create(engine: Engine, username: str, password: str, role: str, by: str) -> None:
    validate(username, password, role)
    with engine.begin() as conn:
        if conn.execute(sa.select(users.c.id).where(users.c.username == username)).first():
            raise AccountError(f"The user {username} exists already.")
        conn.execute(users.insert().values(
            username=username, password_hash=_hasher.hash(password), role=role, active=True, failed_logins=0,
            session_version=1, created_at=utcnow(),
        ))
        record(conn, by, "user_create", detail=f"{username} ({role})")


def update(engine: Engine, username: str, by: str, *, password: str | None = None, role: str | None = None,
           active: bool | None = None, unlock: bool = False) -> None:
    """Change a password, role or active state, or unlock; a password, role or state change ends its sessions."""
    validate(username, password, role)
    values: dict[str, Any] = {}
    if password is not None:
        values["password_hash"] = _hasher.hash(password)
    if role is not None:
        values["role"] = role
    if active is not None:
        values["active"] = active
    if values:
        values["session_version"] = users.c.session_version + 1
    if unlock or password is not None:
        values.update(failed_logins=0, locked_until=None)
    with engine.begin() as conn:
        done = conn.execute(users.update().where(users.c.username == username).values(**values)).rowcount
        if not done:
            raise AccountError(f"There is no user {username}.")
        changes = [f"role={role}"] if role else []
        changes += ["password"] if password is not None else []
        changes += [f"active={active}"] if active is not None else []
        record(conn, by, "user_update", detail=f"{username}: {', '.join(changes) or 'unlock'}")


def login(engine: Engine, username: str, password: str, attempts: int, lock_minutes: int) -> LoginResult:
    """Check a login; count failures and lock the account for `lock_minutes` after `attempts` failures in a row."""
    now = utcnow()
    with engine.begin() as conn:
        user = conn.execute(sa.select(users).where(users.c.username == username)).first()
        if user is None or not user.active:
            _verify(_DUMMY_HASH, password)
            record(conn, username[:64] or "-", "login_failed", detail="unknown or inactive user")
            return LoginResult()
        if user.locked_until and user.locked_until > now:
            record(conn, user.username, "login_refused", detail="locked")
            return LoginResult(locked_until=user.locked_until)
        if not _verify(user.password_hash, password):
            failed = (0 if user.locked_until else user.failed_logins) + 1
            locked_until = now + timedelta(minutes=lock_minutes) if failed >= attempts else None
            conn.execute(users.update().where(users.c.id == user.id).values(
                failed_logins=failed, locked_until=locked_until
            ))
            detail = f"{failed} in a row" + (", locked" if locked_until else "")
            record(conn, user.username, "login_failed", detail=detail)
            return LoginResult(locked_until=locked_until)
        values: dict[str, Any] = {"failed_logins": 0, "locked_until": None, "last_login_at": now}
        if _hasher.check_needs_rehash(user.password_hash):
            values["password_hash"] = _hasher.hash(password)
        conn.execute(users.update().where(users.c.id == user.id).values(**values))
        record(conn, user.username, "login")
        return LoginResult(user=dict(user._mapping))


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def any_account(engine: Engine) -> bool:
    """Whether a staff account exists at all (until one does, the login page says how to create the first)."""
    with engine.connect() as conn:
        return conn.execute(sa.select(users.c.id).limit(1)).first() is not None


def get(engine: Engine, user_id: int) -> dict[str, Any] | None:
    with engine.connect() as conn:
        row = conn.execute(sa.select(users).where(users.c.id == user_id)).first()
    return dict(row._mapping) if row else None


def all_users(engine: Engine) -> list[dict[str, Any]]:
    columns = [c for c in users.c if c.name != "password_hash"]
    with engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(sa.select(*columns).order_by(users.c.username))]
