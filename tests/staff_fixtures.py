"""Fixtures for the staff console tests: scripted family conversations run through the real bot, the web server,
and staff accounts created with the command-line tool.

Test modules import the fixtures they use (`from tests.staff_fixtures import staff_web  # noqa: F401`). pytest
makes one copy of an imported session fixture per module, so the expensive work is cached here and done once.

Run on its own, it fills a running assistant's store: python -m tests.staff_fixtures http://localhost:5005
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pytest

from tests import servers

PHONE_TYPED = "555-867-5309"
PHONE_DIGITS = "5558675309"
EMAIL_TYPED = "jane.doe@example.com"
STREET_TYPED = "42 Elm Street"

# name -> what the family types, turn by turn
SCRIPTS: dict[str, list[str]] = {
    "emergency": [
        "hello",
        "my son took a handful of xanax with vodka and now he won't wake up",
    ],
    "self_harm": [
        "my daughter keeps saying she wants to kill herself",
    ],
    "professional": [
        "hi",
        "I want to talk to a real person please",
        "thank you",
    ],
    "fallback": [
        "qwpoeiru zxmvn alskdjf",
        "blorp fnargle wibble snork",
    ],
    "personal_data": [
        f"my husband is on klonopin, you can call me on {PHONE_TYPED} or email {EMAIL_TYPED}",
        f"we live at {STREET_TYPED}, text me at {PHONE_DIGITS}",
        "what are the signs of addiction?",
    ],
    "information": [
        "what are benzodiazepines?",
        "what does withdrawal look like?",
        "is it safe for him to stop suddenly?",
        "goodbye",
    ],
}
PASSWORD = "correct horse battery staple"


@dataclass
class StaffSite:
    url: str
    db_path: Path | None  # the SQLite file; None on PostgreSQL
    database_url: str
    senders: dict[str, str]
    users: dict[str, str] = field(default_factory=dict)  # username -> role
    password: str = PASSWORD


def run_scripts(rasa_url: str, prefix: str = "staff") -> dict[str, str]:
    """Talk through every script; name -> sender id."""
    senders = {}
    for number, (name, turns) in enumerate(SCRIPTS.items()):
        sender = f"{prefix}-{name}-{uuid.uuid4().hex[:8]}"
        with servers.family_session(rasa_url, number) as session:  # each family from its own address
            for text in turns:
                servers.say(rasa_url, sender, text, session=session)
        senders[name] = sender
    return senders


def create_user(database_url: str, username: str, role: str, password: str = PASSWORD) -> subprocess.CompletedProcess:
    """python -m bot.staff.users create, as an admin would run it."""
    return subprocess.run(
        [sys.executable, "-m", "bot.staff.users", "create", username, "--role", role, "--password-stdin"],
        input=password + "\n", text=True, capture_output=True, cwd=servers.ROOT,
        env=servers.base_env(DATABASE_URL=database_url), timeout=120,
    )


_cache: dict[str, Any] = {}


def _once(key: str, make: Callable[[], Any]) -> Any:
    if key not in _cache:
        _cache[key] = make()
    return _cache[key]


@pytest.fixture(scope="session")
def staff_rasa(workdir: Path, action_server: servers.Service) -> Iterator[servers.Service]:
    """A Rasa server of the staff tests' own, on its own SQLite file: the console's list then shows their
    conversations on its first page, whatever the other modules' tests stored in the shared server's file."""

    def start() -> servers.Service:
        db = workdir / "staff-conversations.db"
        service = servers.rasa_server(workdir, db, f"{action_server.url}/webhook").start()
        service.db_path = db  # type: ignore[attr-defined]
        return service

    service = _once("rasa", start)
    yield service
    service.stop()


@pytest.fixture(scope="session")
def staff_conversations(staff_rasa: servers.Service) -> dict[str, str]:
    """The scripted conversations, stored by the real bot in staff_rasa.db_path; name -> sender id."""
    return _once("conversations", lambda: run_scripts(staff_rasa.url))


@pytest.fixture(scope="session")
def staff_web(workdir: Path, staff_rasa: servers.Service, staff_conversations: dict[str, str]) -> Iterator[StaffSite]:
    """The web server on the bot's database, with an admin and a reviewer account."""
    rasa_server = staff_rasa

    def start() -> tuple[servers.Service, StaffSite]:
        db_path = Path(rasa_server.db_path)  # type: ignore[attr-defined]
        database_url = f"sqlite:///{db_path}"
        service = servers.web_server(workdir, rasa_server.url, database_url).start()
        site = StaffSite(service.url, db_path, database_url, staff_conversations)
        for username, role in (("admin", "admin"), ("reviewer", "reviewer")):
            result = create_user(database_url, username, role)
            assert result.returncode == 0, result.stderr
            site.users[username] = role
        return service, site

    service, site = _once("web", start)
    yield site
    service.stop()


if __name__ == "__main__":
    for name, sender in run_scripts(sys.argv[1] if len(sys.argv) > 1 else "http://localhost:5005").items():
        print(f"{name}\t{sender}")
