"""Start the project's real services for tests: action server, Rasa server, web server."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

import requests

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "benzo-family.tar.gz"
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def base_env(**extra: str) -> Dict[str, str]:
    env = dict(os.environ)
    env.update(
        PYTHONPATH=str(ROOT),
        TF_CPP_MIN_LOG_LEVEL="2",
        RASA_TELEMETRY_ENABLED="false",
        SQLALCHEMY_SILENCE_UBER_WARNING="1",
    )
    env.update(extra)
    return env


@dataclass
class Service:
    name: str
    cmd: List[str]
    port: int
    health_path: str
    log: Path
    env: Dict[str, str] = field(default_factory=base_env)
    proc: Optional[subprocess.Popen] = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 180) -> Service:
        self.proc = subprocess.Popen(
            self.cmd,
            cwd=ROOT,
            env=self.env,
            stdout=open(self.log, "ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}; see {self.log}")
            try:
                if requests.get(self.url + self.health_path, timeout=2).status_code < 500:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer within {timeout}s; see {self.log}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def action_server(workdir: Path, port: Optional[int] = None) -> Service:
    port = port or free_port()
    return Service(
        "action server",
        [str(BIN / "python"), "-m", "rasa_sdk", "--actions", "actions", "--port", str(port)],
        port,
        "/health",
        workdir / f"actions-{port}.log",
    )


def rasa_server(workdir: Path, db_path: Path, action_url: str, port: Optional[int] = None) -> Service:
    """Rasa with the project's channel and tracker store, on its own SQLite file."""
    port = port or free_port()
    endpoints = workdir / f"endpoints-{port}.yml"
    endpoints.write_text(
        f"action_endpoint:\n  url: {action_url}\n"
        "tracker_store:\n  type: bot.tracker_store.RedactingSQLTrackerStore\n"
        f"  dialect: sqlite\n  db: {db_path}\n"
    )
    return Service(
        "rasa",
        [
            str(BIN / "rasa"), "run", "--model", str(MODEL), "--port", str(port),
            "--credentials", str(ROOT / "credentials.yml"), "--endpoints", str(endpoints),
        ],
        port,
        "/webhooks/rest/",
        workdir / f"rasa-{port}.log",
    )


def web_server(workdir: Path, rasa_url: str, database_url: str, port: Optional[int] = None, **env: str) -> Service:
    port = port or free_port()
    return Service(
        "web",
        [str(BIN / "python"), "-m", "bot.web", "--port", str(port)],
        port,
        "/healthz",
        workdir / f"web-{port}.log",
        env=base_env(RASA_URL=rasa_url, DATABASE_URL=database_url, SECRET_KEY_FILE=str(workdir / "secret"), **env),
    )


def say(base_url: str, sender: str, text: str, timeout: float = 30) -> List[dict]:
    """One turn over the REST channel; the bot's messages."""
    answer = requests.post(
        f"{base_url}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=timeout
    )
    answer.raise_for_status()
    return answer.json()


def texts(messages: List[dict]) -> str:
    return "\n".join(m.get("text", "") for m in messages)
