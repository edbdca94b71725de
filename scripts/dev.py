"""make run: the one-machine set-up under supervisord, in the foreground (Ctrl-C stops every service).

    python -m scripts.dev run       # scripts/run.sh: render var/supervisor/supervisord.conf, exec supervisord -n
    python -m scripts.dev status    # this profile's part of make status

Services: the action server :5055, Rasa (REST channel, SQLite tracker store) :5005, the web server (widget and staff
console) :8000, the retention job (deletes conversations older than the configured number of days), once at
start and then once a day, and the alerts worker (bot.staff.alert_worker: emergencies and requests for a person to
the console, the webhook and e-mail of config/alerts.yml). Each is restarted when it dies (config/supervisor/). Ports
and the state directory come from ACTION_PORT, RASA_PORT, WEB_PORT and VAR_DIR in the environment (defaults as above
and var/); the tests run the same profile on free ports in a temporary directory.
"""

from __future__ import annotations

import os
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import List, Mapping

import yaml

from bot.core import live_chat
from bot.processes import BIN, MODEL, ROOT, action_service, rasa_service, web_service
from bot.supervision import Check, Program, Supervisor, env_delta, status

DEFAULTS = {"ACTION_PORT": "5055", "RASA_PORT": "5005", "WEB_PORT": "8000", "VAR_DIR": "var"}
RETENTION_EVERY = 86400


@dataclass
class DevProfile:
    action_port: int
    rasa_port: int
    web_port: int
    var: Path

    @classmethod
    def load(cls, environ: Mapping[str, str] = os.environ) -> DevProfile:
        values = {key: environ.get(key) or default for key, default in DEFAULTS.items()}
        var = Path(values["VAR_DIR"])
        return cls(int(values["ACTION_PORT"]), int(values["RASA_PORT"]), int(values["WEB_PORT"]),
                   var if var.is_absolute() else ROOT / var)

    @property
    def default(self) -> bool:
        """The documented set-up: endpoints.yml and config/web.yml apply as they are."""
        return self == DevProfile.load({})

    @property
    def supervisor(self) -> Supervisor:
        return Supervisor(self.var / "supervisor", self.var / "logs")

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.var / 'conversations.db'}"

    def endpoints(self) -> Path:
        """endpoints.yml, or a copy with this profile's action port and database: every other section (the NLG
        that adds the safety note, ...) stays as endpoints.yml has it."""
        if self.default:
            return ROOT / "endpoints.yml"
        endpoints = yaml.safe_load((ROOT / "endpoints.yml").read_text())
        endpoints["action_endpoint"]["url"] = f"http://localhost:{self.action_port}/webhook"
        endpoints["tracker_store"]["db"] = str(self.var / "conversations.db")
        path = self.var / "endpoints.yml"
        path.write_text(yaml.safe_dump(endpoints, sort_keys=False))
        return path

    def web_env(self) -> dict:
        """What the web server and the retention job read instead of config/web.yml's defaults (none by default)."""
        if self.default:
            return {}
        return {"RASA_URL": f"http://localhost:{self.rasa_port}", "DATABASE_URL": self.database_url,
                "SECRET_KEY_FILE": str(self.var / "secret_key"), "RASA_TOKEN_FILE": str(self.var / "rasa_token")}

    def rasa_api(self) -> List[str]:
        """Rasa's HTTP API, only when live chat is on (config/provider.yml): the hand-off pauses and resumes
        conversations and writes the staff's messages through it, with a token generated once into var/rasa_token
        (never committed), which the web server reads too. Rasa then listens on 127.0.0.1 only."""
        if not live_chat.load().enabled:
            return []
        path = self.var / "rasa_token"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o600)
            path.write_text(secrets.token_hex(24))
        return ["--interface", "127.0.0.1", "--enable-api", "--auth-token", path.read_text().strip()]

    def programs(self) -> List[Program]:
        logs = self.var / "logs"
        web = web_service(self.web_port, logs / "web.log", **self.web_env())
        retention_state = self.var / "supervisor" / "retention.json"
        retention = Program(
            "retention",
            [web.cmd[0], "-m", "bot.staff.retention", "--every", str(RETENTION_EVERY), "--state", str(retention_state)],
            logs / "retention.log", Check("retention", [str(retention_state)]), env_delta(web.env),
            description="deletes conversations older than retention_days, at start and then once a day",
        )
        return [
            Program.from_service(action_service(self.action_port, logs / "actions.log"), "action server (rasa-sdk)"),
            Program.from_service(
                rasa_service(self.rasa_port, self.endpoints(), logs / "rasa.log", MODEL, *self.rasa_api()),
                "Rasa server (REST channel)"
            ),
            Program.from_service(web, "web server: family chat, widget proxy, staff console"),
            retention,
            alerts_worker(self.var / "supervisor" / "alerts.json", logs / "alerts.log", web.env,
                          f"http://localhost:{self.web_port}"),
        ]

    def write(self) -> Supervisor:
        self.var.mkdir(parents=True, exist_ok=True)
        supervisor = self.supervisor
        supervisor.write(self.programs(), foreground=True)
        return supervisor


def alerts_worker(state: Path, log: Path, web_env: Mapping[str, str], console_url: str) -> Program:
    """The alerts worker on the web server's database and settings (both profiles); the alerts' link points at
    this profile's console unless ALERT_CONSOLE_URL is set."""
    env = env_delta(web_env)
    if not os.environ.get("ALERT_CONSOLE_URL", "").strip():
        env["ALERT_CONSOLE_URL"] = console_url
    return Program(
        "alerts", [str(BIN / "python"), "-m", "bot.staff.alert_worker", "--state", str(state)], log,
        Check("alerts", [str(state)]), env,
        description="alerts worker: emergencies and requests for a person to the console, webhook and e-mail",
    )


def main(argv: List[str]) -> int:
    profile = DevProfile.load()
    if argv == ["status"]:
        return status(f"make run ({profile.supervisor.dir})", profile.supervisor)
    if argv != ["run"]:
        print(__doc__, file=sys.stderr)
        return 2
    supervisor = profile.write()
    url = f"http://localhost:{profile.web_port}"
    print(f"Starting under supervisord: chat at {url}/  staff console at {url}/staff\n"
          f"  logs in {supervisor.log_dir}; `make status` shows each service; Ctrl-C stops everything", flush=True)
    command = supervisor.foreground_command()
    os.execv(command[0], command)  # supervisord itself gets Ctrl-C and stops every service
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
