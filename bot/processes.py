"""The project's services: their commands, environment, log file and health path. Both profiles run them under
supervisord (bot/supervision.py); the tests and the benchmark also start them directly as child processes."""

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
    # the port was picked by free_port(): if another socket takes it before the service binds it (an outgoing
    # connection's ephemeral port, say), start again on a new one instead of failing
    retry_port: bool = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 180) -> Service:
        for _ in range(3 if self.retry_port else 1):
            start_of_log = self.log.stat().st_size if self.log.exists() else 0
            try:
                return self._start(timeout)
            except RuntimeError:
                lost = "address already in use" in self.log.read_text(errors="replace")[start_of_log:]
                if not (self.retry_port and lost):
                    raise
            old, self.port = str(self.port), free_port()
            self.cmd = [str(self.port) if arg == old else arg for arg in self.cmd]
        return self._start(timeout)

    def _start(self, timeout: float) -> Service:
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


# ------------------------------------------------------------------------------- the project's three services
def action_service(port: int, log: Path, env: Optional[Dict[str, str]] = None) -> Service:
    """The rasa-sdk action server with the project's actions/."""
    cmd = [str(BIN / "python"), "-m", "rasa_sdk", "--actions", "actions", "--port", str(port)]
    return Service("actions", cmd, port, "/health", log, env=env or base_env())


def rasa_service(
    port: int, endpoints: Path, log: Path, model: Path = MODEL, *extra: str, env: Optional[Dict[str, str]] = None
) -> Service:
    """A Rasa server with the project's patches (bot.rasa.cli), REST channel (credentials.yml) and the given
    endpoints; `extra` arguments are added to `rasa run` (e.g. the interface, the API token)."""
    cmd = [
        str(BIN / "python"), "-m", "bot.rasa.cli", "run", "--model", str(model), "--port", str(port),
        "--credentials", str(ROOT / "credentials.yml"), "--endpoints", str(endpoints), *extra,
    ]
    return Service(f"rasa-{port}", cmd, port, "/webhooks/rest/", log, env=env or base_env())


def web_service(port: int, log: Path, *extra: str, **env: str) -> Service:
    """The web server (widget, proxy, staff console); `env` holds RASA_URL, DATABASE_URL, SECRET_KEY_FILE..."""
    cmd = [str(BIN / "python"), "-m", "bot.web", "--port", str(port), *extra]
    return Service("web", cmd, port, "/healthz", log, env=base_env(**env))
