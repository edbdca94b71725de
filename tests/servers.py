"""Start the project's real services for tests: action server, Rasa server, web server."""

from __future__ import annotations

from pathlib import Path
from typing import Any, List, Optional

import requests
from requests.adapters import HTTPAdapter

from bench.load import client_address
from bot.processes import BIN, MODEL, ROOT, Service, action_service, base_env, free_port, rasa_service, web_service

__all__ = ["BIN", "MODEL", "ROOT", "SCREENSHOTS", "Service", "base_env", "free_port", "say", "texts"]

# Where the browser tests save the README's screenshots; `make screenshots` copies them to docs/ (tracked files
# change only on purpose).
SCREENSHOTS = ROOT / "build" / "screenshots"


def _free(service: Service, chosen: Optional[int]) -> Service:
    service.retry_port = chosen is None  # a port picked here may be picked again if it is lost before binding
    return service


def action_server(workdir: Path, port: Optional[int] = None) -> Service:
    chosen, port = port, port or free_port()
    return _free(action_service(port, workdir / f"actions-{port}.log"), chosen)


def rasa_server(workdir: Path, db_path: Path, action_url: str, port: Optional[int] = None) -> Service:
    """Rasa with the project's channel and tracker store, on its own SQLite file."""
    chosen, port = port, port or free_port()
    endpoints = workdir / f"endpoints-{port}.yml"
    endpoints.write_text(
        f"action_endpoint:\n  url: {action_url}\n  enable_selective_domain: true\n"
        "tracker_store:\n  type: bot.rasa.tracker_store.RedactingSQLTrackerStore\n"
        f"  dialect: sqlite\n  db: {db_path}\n"
        "nlg:\n  type: bot.rasa.nlg.SafetyNoteNLG\n"
    )
    return _free(rasa_service(port, endpoints, workdir / f"rasa-{port}.log"), chosen)


def web_server(workdir: Path, rasa_url: str, database_url: str, port: Optional[int] = None, **env: str) -> Service:
    chosen, port = port, port or free_port()
    return _free(web_service(
        port, workdir / f"web-{port}.log",
        RASA_URL=rasa_url, DATABASE_URL=database_url, SECRET_KEY_FILE=str(workdir / "secret"), **env,
    ), chosen)


class SourceAddress(HTTPAdapter):
    """Connections from one local address: on loopback, one family per address (bench.load.client_address), as the
    per-client rate limits of nginx and the web server see families."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, source_address=(self.address, 0), **kwargs)


def family_session(base_url: str, number: int) -> requests.Session:
    """A requests session for family `number`: its own loopback address when `base_url` is on loopback."""
    session = requests.Session()
    address = client_address(base_url, number)
    if address:
        session.mount("http://", SourceAddress(address))
    return session


def say(
    base_url: str, sender: str, text: str, timeout: float = 30, session: Optional[requests.Session] = None
) -> List[dict]:
    """One turn over the REST channel; the bot's messages."""
    answer = (session or requests).post(
        f"{base_url}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=timeout
    )
    answer.raise_for_status()
    return answer.json()


def texts(messages: List[dict]) -> str:
    return "\n".join(m.get("text", "") for m in messages)
