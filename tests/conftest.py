"""Session-wide real services (each starts once, on free ports and its own SQLite file, and stops at the end), the
test tiers' markers (pytest.ini) and two guards: a test not marked `servers` cannot start a service, and no test
leaves Rasa patched (bot.rasa.patches)."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path
from typing import Any, Iterator, List, Optional

import pytest

from tests import servers

# Tests using these fixtures are marked here: `servers` (the fixtures start processes), `browser` (the Chromium
# fixture of test_widget.py and test_staff_browser.py). Other modules mark themselves.
SERVER_FIXTURES = {"action_server", "rasa_server", "rasa_without_actions"}
BROWSER_FIXTURES = {"browser"}
_running: Optional[pytest.Item] = None
_start = servers.Service.start


def pytest_collection_modifyitems(items: List[pytest.Item]) -> None:
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if SERVER_FIXTURES & fixtures:
            item.add_marker(pytest.mark.servers)
        if BROWSER_FIXTURES & fixtures:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    global _running
    _running = item


def _guarded_start(service: servers.Service, *args: Any, **kwargs: Any) -> servers.Service:
    """Service.start for tests marked `servers` only, so that `make test-fast` (-m "not servers") starts none."""
    if _running is not None and _running.get_closest_marker("servers") is None:
        raise RuntimeError(f"{_running.nodeid} starts {service.name} but is not marked `servers` (pytest.ini)")
    return _start(service, *args, **kwargs)


def pytest_configure(config: pytest.Config) -> None:
    servers.Service.start = _guarded_start  # type: ignore[method-assign]


def pytest_unconfigure(config: pytest.Config) -> None:
    servers.Service.start = _start  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def rasa_is_left_as_found() -> Iterator[None]:
    """A test that patches Rasa undoes it (bot.rasa.patches.patched), so no other test runs on its leftovers."""
    patches = sys.modules.get("bot.rasa.patches")
    before = patches.installed() if patches else []
    yield
    patches = sys.modules.get("bot.rasa.patches")
    if patches is not None:
        assert patches.installed() == before, "the test left Rasa patched: use bot.rasa.patches.patched()"


@pytest.fixture(scope="session")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("services")


@pytest.fixture(scope="session")
def model() -> Path:
    if not servers.MODEL.exists():
        pytest.fail("no trained model: run `make test` (it trains first) or `make train`")
    return servers.MODEL


@pytest.fixture(scope="session")
def action_server(workdir: Path) -> Iterator[servers.Service]:
    service = servers.action_server(workdir).start()
    yield service
    service.stop()


@pytest.fixture(scope="session")
def rasa_server(model: Path, workdir: Path, action_server: servers.Service) -> Iterator[servers.Service]:
    """The assistant with its action server; conversations in workdir/conversations.db."""
    db = workdir / "conversations.db"
    service = servers.rasa_server(workdir, db, f"{action_server.url}/webhook").start()
    service.db_path = db  # type: ignore[attr-defined]
    yield service
    service.stop()


@pytest.fixture(scope="session")
def rasa_without_actions(model: Path, workdir: Path) -> Iterator[servers.Service]:
    """The assistant with its action endpoint pointing at a port where nothing listens."""
    db = workdir / "no-actions.db"
    service = servers.rasa_server(workdir, db, f"http://127.0.0.1:{servers.free_port()}/webhook").start()
    service.db_path = db  # type: ignore[attr-defined]
    yield service
    service.stop()


@pytest.fixture
def sender() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"
