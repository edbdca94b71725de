"""Staff console settings: config/staff.yml, plus the web server's database URL and retention period."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import timezone
from typing import Any
from zoneinfo import ZoneInfo

from bot.core.settings import PROJECT_ROOT, load_yaml, web_settings

UTC = timezone.utc  # noqa: UP017 (datetime.UTC needs Python 3.11; the project runs 3.10)


@dataclass(frozen=True)
class StaffSettings:
    database_url: str
    retention_days: int
    first_admin_command: str = ""
    lockout_attempts: int = 5
    lockout_minutes: int = 15
    session_hours: int = 8
    page_size: int = 50
    low_confidence: float = 0.7
    timezone: str = "UTC"
    export_limit: int = 10000

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def staff_settings(web: dict[str, Any] | None = None) -> StaffSettings:
    """The console's settings; `web` is the web server's settings (read from config/web.yml when not given)."""
    if web is None:
        web = web_settings()
    return StaffSettings(
        database_url=resolve_sqlite_path(web["database_url"]),
        retention_days=int(web["retention_days"]),
        first_admin_command=str(web.get("first_admin_command") or ""),
        **_staff_yml(),
    )


@functools.cache
def _staff_yml() -> dict[str, Any]:
    return dict(load_yaml("config/staff.yml"))


def resolve_sqlite_path(url: str) -> str:
    """A relative SQLite path is taken from the project root, as Rasa (started there) does."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and url != prefix + ":memory:":
        return prefix + str(PROJECT_ROOT / url[len(prefix):])
    return url
