"""Session-wide real services. Each starts once, on free ports and its own SQLite file, and stops at the end."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Iterator

import pytest

from tests import servers


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
