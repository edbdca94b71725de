"""bot/processes.py: a service whose freely chosen port is taken before it binds starts again on another one.

The fresh-clone CI once lost a whole module of server tests because Rasa's port, picked by free_port(), was in use
by the time Rasa bound it ("address already in use")."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import requests

from bot.processes import action_service, free_port

pytestmark = pytest.mark.servers


def test_a_lost_free_port_is_replaced(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", free_port()))
        taken.listen()
        busy = taken.getsockname()[1]
        service = action_service(busy, tmp_path / "actions.log")
        service.retry_port = True
        try:
            service.start()
            assert service.port != busy and str(busy) not in service.cmd
            assert requests.get(f"{service.url}/health", timeout=5).status_code == 200
            assert "address already in use" in (tmp_path / "actions.log").read_text()
        finally:
            service.stop()


def test_a_port_asked_for_is_not_replaced(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", free_port()))
        taken.listen()
        service = action_service(taken.getsockname()[1], tmp_path / "actions.log")
        with pytest.raises(RuntimeError):
            service.start(timeout=60)
        service.stop()
