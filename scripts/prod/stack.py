"""The production profile on one machine: PostgreSQL, Redis, nginx, N Rasa servers, the action server, the web server
and the retention job, all under one supervisord (bot/supervision.py, config/supervisor/).

    python -m scripts.prod.stack start     # scripts/prod/start.sh (make run-prod) installs the Debian packages first
    python -m scripts.prod.stack stop      # scripts/prod/stop.sh (make stop-prod)
    python -m scripts.prod.stack status    # this profile's part of make status
    python -m scripts.prod.stack foreground  # the same, supervisord in the foreground (config/systemd/)
    python -m scripts.prod.stack env       # settings and secrets as a systemd EnvironmentFile (native units)
    python -m scripts.prod.stack users create NAME --role admin   # make staff-user PROFILE=prod NAME=... ROLE=...

Settings come from config/prod/prod.env, overridden by environment variables of the same name. Secrets (the
database and Redis passwords, the Rasa API token) are generated on first start into $PROD_DIR/secrets.env (0600),
never committed. The tests (tests/test_prod.py) and the benchmark (bench/) start the same stack on free ports in a
temporary directory (:func:`test_settings`).
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Mapping, Optional

from bot.processes import BIN, ROOT, Service, action_service, base_env, free_port, rasa_service, web_service
from bot.supervision import Check, Program, Supervisor, env_delta, status, which
from scripts.dev import alerts_worker

ENV_FILE = ROOT / "config" / "prod" / "prod.env"
ENDPOINTS = ROOT / "config" / "prod" / "endpoints.yml"
NGINX_TEMPLATE = ROOT / "config" / "prod" / "nginx.conf.template"
SECRET_NAMES = ("PG_PASSWORD", "REDIS_PASSWORD", "RASA_TOKEN")
PORT_NAMES = ("NGINX_PORT", "RASA_LB_PORT", "ACTION_PORT", "WEB_PORT", "PG_PORT", "REDIS_PORT")


# ---------------------------------------------------------------------------------------------------------- settings
def read_env_file(path: Path) -> Dict[str, str]:
    """KEY=VALUE lines; '#' starts a comment (at the start of a line or after whitespace)."""
    values = {}
    for line in path.read_text().splitlines():
        line = line.split(" #", 1)[0].strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            values[key.strip()] = value.strip()
    return values


@dataclass
class Settings:
    """The profile's settings (prod.env + environment + overrides) and its generated secrets."""

    values: Dict[str, str]

    @classmethod
    def load(cls, overrides: Optional[Mapping[str, str]] = None, environ: Mapping[str, str] = os.environ) -> Settings:
        values = read_env_file(ENV_FILE)
        values.update({key: environ[key] for key in values if key in environ})
        values.update(overrides or {})
        return cls(values)

    def __getitem__(self, key: str) -> str:
        return self.values[key]

    def port(self, key: str) -> int:
        return int(self.values[key])

    @property
    def dir(self) -> Path:
        path = Path(self["PROD_DIR"])
        return path if path.is_absolute() else ROOT / path

    @property
    def rasa_ports(self) -> List[int]:
        return [int(port) for port in self["RASA_PORTS"].replace(" ", ",").split(",") if port]

    @property
    def api_enabled(self) -> bool:
        """RASA_ENABLE_API, or live chat on (config/provider.yml): the hand-off pauses and resumes conversations
        and writes the staff's messages through the API, with the generated token (README, "Live hand-off")."""
        from bot.core import live_chat

        return self["RASA_ENABLE_API"].lower() in ("1", "true", "yes") or live_chat.load().enabled

    def secrets(self) -> Dict[str, str]:
        """$PROD_DIR/secrets.env, generated on first use (mode 0600)."""
        path = self.dir / "secrets.env"
        values = read_env_file(path) if path.exists() else {}
        missing = [name for name in SECRET_NAMES if not values.get(name)]
        if missing:
            values.update({name: secrets.token_hex(24) for name in missing})
            self.dir.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o600)
            path.write_text("".join(f"{key}={value}\n" for key, value in values.items()))
        return values

    def env(self, **extra: str) -> Dict[str, str]:
        """The environment of every service: the settings and the secrets (read by config/prod/endpoints.yml)."""
        return base_env(**{**self.values, **self.secrets(), **extra})


def test_settings(directory: Path, rasa_servers: int = 2, **overrides: str) -> Settings:
    """The same profile on free ports with its state in `directory` (tests and benchmark)."""
    values = {name: str(free_port()) for name in PORT_NAMES}
    values.update(
        PROD_DIR=str(directory), RASA_PORTS=",".join(str(free_port()) for _ in range(rasa_servers)),
        NGINX_WORKERS="1", **overrides,
    )
    return Settings.load(values, environ={})


# ----------------------------------------------------------------------------------------------------------- helpers
def gone(pid: int) -> bool:
    """The process has exited (a child of ours is reaped, so that a zombie does not count as running)."""
    try:
        if os.waitpid(pid, os.WNOHANG)[0]:
            return True
    except ChildProcessError:  # not our child
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def stop_pid(pid: int, timeout: float = 20) -> None:
    """SIGTERM the process group, SIGKILL it if it is still there after `timeout`."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if gone(pid):
                return
            time.sleep(0.2)


def run(cmd: List[str], **kwargs: object) -> subprocess.CompletedProcess:
    """A command that must succeed within 2 minutes (daemons it starts must not keep its stdout/stderr open)."""
    return subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=120, **kwargs)  # type: ignore


# ---------------------------------------------------------------------------------------------------------- daemons
class Postgres:
    """A PostgreSQL cluster of its own under $PROD_DIR/pg, run by supervisord in the foreground (as the `postgres`
    user when started as root)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.dir = settings.dir / "pg"
        self.data = self.dir / "data"
        self.socket_dir = self.dir / "run"
        self.port = settings.port("PG_PORT")
        self.log = str(self.dir / "bootstrap.log")

    @staticmethod
    def binary(name: str) -> str:
        found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(p.split("/")[4]))
        if not found:
            raise RuntimeError("PostgreSQL is not installed: scripts/system-deps.sh postgresql")
        return found[-1]

    @property
    def user(self) -> Optional[str]:
        return "postgres" if os.geteuid() == 0 else None

    def _cmd(self, name: str, *args: str) -> List[str]:
        owner = ["runuser", "-u", "postgres", "--"] if self.user else []
        return [*owner, self.binary(name), *args]

    @property
    def url(self) -> str:
        s, password = self.settings, self.settings.secrets()["PG_PASSWORD"]
        return f"postgresql://{s['PG_USER']}:{password}@127.0.0.1:{self.port}/{s['PG_DB']}"

    def init(self) -> None:
        """A new cluster (initdb) with the application's role and database, once."""
        if (self.data / "PG_VERSION").exists():
            return
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        if self.user:
            shutil.chown(self.dir, "postgres", "postgres")
            shutil.chown(self.socket_dir, "postgres", "postgres")
        run(self._cmd("initdb", "-D", str(self.data), "-U", "postgres", "-E", "UTF8", "--locale=C",
                      "--auth-local=trust", "--auth-host=scram-sha-256"), cwd=self.dir)
        # local (socket) connections: only the owner of the socket directory may connect
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(f"unix_socket_directories = '{self.socket_dir}'\nunix_socket_permissions = 0700\n")
        # the role and database exist before supervisord starts the services that use them
        self.pg_ctl("-l", self.log, "-o", f"-p {self.port} -c listen_addresses=''", "-w", "-t", "60", "start")
        try:
            self.ensure_database()
        finally:
            self.pg_ctl("-m", "fast", "-w", "stop")

    def pg_ctl(self, *args: str) -> None:
        run(self._cmd("pg_ctl", "-D", str(self.data), *args), cwd=self.dir)

    def program(self) -> Program:
        """postgres in the foreground (its log on stderr, rotated by supervisord). When the postmaster is killed its
        backends notice and exit by themselves; until they have, a new postmaster refuses to start and supervisord
        tries again after its backoff."""
        cmd = [self.binary("postgres"), "-D", str(self.data), "-p", str(self.port), "-c", "listen_addresses=127.0.0.1"]
        return Program(
            "postgres", cmd, self.settings.dir / "logs" / "postgres.log",
            Check("postgres", [self.url]), user=self.user, description="PostgreSQL: the tracker store",
        )

    def psql(self, sql: str, database: str = "postgres") -> str:
        cmd = self._cmd("psql", "-h", str(self.socket_dir), "-p", str(self.port), "-U", "postgres", "-d", database,
                        "-v", "ON_ERROR_STOP=1", "-tAc", sql)
        return run(cmd, cwd=self.dir).stdout.strip()

    def ensure_database(self) -> None:
        """The application role (password from the secrets) and its database."""
        user, db, password = self.settings["PG_USER"], self.settings["PG_DB"], self.settings.secrets()["PG_PASSWORD"]
        verb = "ALTER" if self.psql(f"SELECT 1 FROM pg_roles WHERE rolname = '{user}'") else "CREATE"
        self.psql(f"{verb} ROLE {user} LOGIN PASSWORD '{password}'")
        if not self.psql(f"SELECT 1 FROM pg_database WHERE datname = '{db}'"):
            self.psql(f"CREATE DATABASE {db} OWNER {user}")


class Redis:
    """Redis for Rasa's conversation locks: 127.0.0.1 only, password from the secrets, nothing persisted."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.dir = settings.dir / "redis"
        self.port = settings.port("REDIS_PORT")

    def client(self):  # type: ignore[no-untyped-def]
        import redis

        return redis.Redis(port=self.port, password=self.settings.secrets()["REDIS_PASSWORD"], socket_timeout=5)

    def write_config(self) -> Path:
        self.dir.mkdir(parents=True, exist_ok=True)
        conf = self.dir / "redis.conf"
        conf.touch(mode=0o600)
        conf.write_text(
            f"port {self.port}\nbind 127.0.0.1\nprotected-mode yes\n"
            f"requirepass {self.settings.secrets()['REDIS_PASSWORD']}\n"
            f'daemonize no\nlogfile ""\ndir {self.dir}\n'
            'save ""\nappendonly no\n'
        )
        return conf

    def program(self) -> Program:
        return Program(
            "redis", [which("redis-server"), str(self.write_config())], self.settings.dir / "logs" / "redis.log",
            Check("redis", [str(self.port)], self.settings.secrets()["REDIS_PASSWORD"]),
            description="Redis: conversation locks shared by the Rasa servers",
        )


class Nginx:
    """nginx from config/prod/nginx.conf.template, its files under $PROD_DIR/nginx, its logs through supervisord."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.dir = settings.dir / "nginx"
        self.conf = self.dir / "nginx.conf"

    def render(self) -> str:
        servers = "\n".join(
            f"        server 127.0.0.1:{port} max_fails=1 fail_timeout=5s;" for port in self.settings.rasa_ports
        )
        values = dict(self.settings.values, NGINX_DIR=str(self.dir), RASA_SERVERS=servers,
                      RATE_LIMITED_BODY=rate_limited_body(), TOO_LARGE_BODY=calm_body(too_long_reply()),
                      UNAVAILABLE_BODY=calm_body(unavailable_reply()),
                      CORS_ORIGINS=cors_origins(self.settings["ALLOWED_ORIGINS"]))
        text = NGINX_TEMPLATE.read_text()
        for key, value in values.items():
            text = text.replace("{{" + key + "}}", value)
        if "{{" in text:
            raise ValueError(f"unfilled placeholder in {NGINX_TEMPLATE}")
        return text

    def _cmd(self, *args: str) -> List[str]:
        return [which("nginx"), "-c", str(self.conf), "-p", str(self.dir), "-e", "stderr", *args]

    def write_config(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        self.conf.write_text(self.render())
        run(self._cmd("-t"))

    def program(self) -> Program:
        s = self.settings
        health = [f"http://127.0.0.1:{s['NGINX_PORT']}/nginx-health", f"http://127.0.0.1:{s['RASA_LB_PORT']}/nginx-health"]
        return Program(
            "nginx", reaping(self.dir / "nginx.pid", self._cmd("-g", "daemon off;")), s.dir / "logs" / "nginx.log",
            Check("nginx", [*health, str(self.dir / "nginx.pid")]),
            description="nginx: public entry point and the balancer over the Rasa servers",
        )


def calm_body(text: str) -> str:
    """A calm reply in Rasa's answer format, as JSON inside a single-quoted nginx string."""
    body = json.dumps([{"recipient_id": "", "text": text}])
    if "$" in body:  # nginx would read it as a variable, and its strings have no escape for it
        raise ValueError(f"a reply nginx sends must not contain '$': {text!r}")
    return body.replace("\\", "\\\\").replace("'", "\\'")


def rate_limited_body() -> str:
    """nginx's 429 answer: config/web.yml's rate_limited_reply (the web server's own 429 has the same text)."""
    from bot.core.settings import web_settings

    return calm_body(web_settings()["rate_limited_reply"])


def too_long_reply() -> str:
    """A body over NGINX_MAX_BODY: the REST channel's reply to a message over its length (config/channel.yml)."""
    from bot.core.settings import load_yaml

    return str(load_yaml("config/channel.yml")["replies"]["too_long"])


def unavailable_reply() -> str:
    """No Rasa server answered: the web server proxy's reply in the same case (make run)."""
    from bot.web.widget import UNAVAILABLE

    return UNAVAILABLE


def cors_origins(allowed: str) -> str:
    """nginx map lines for ALLOWED_ORIGINS (comma-separated scheme://host[:port]; never "*")."""
    lines = []
    for origin in (item.strip().rstrip("/") for item in allowed.split(",")):
        if not origin:
            continue
        if not re.fullmatch(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?", origin):
            raise ValueError(f"ALLOWED_ORIGINS: {origin!r} is not scheme://host[:port]")
        lines.append(f'        "{origin}" $http_origin;')
    return "\n".join(lines)


def reaping(pidfile: Path, cmd: List[str]) -> List[str]:
    """The command, started by bot/reap.py once it killed what a killed master left behind."""
    return [str(BIN / "python"), "-m", "bot.reap", str(pidfile), "--", *cmd]


# ---------------------------------------------------------------------------------------------------------- services
def rasa_server(settings: Settings, port: int) -> Service:
    """A Rasa server with the REST channel, the PostgreSQL tracker store and the Redis lock store.

    Rasa's HTTP API stays off unless RASA_ENABLE_API is true; then every API route needs the generated token.
    """
    api = ["--enable-api", "--auth-token", settings.secrets()["RASA_TOKEN"]] if settings.api_enabled else []
    model = Path(settings["MODEL"])
    return rasa_service(
        port, ENDPOINTS, settings.dir / "logs" / f"rasa-{port}.log", model if model.is_absolute() else ROOT / model,
        "--interface", "127.0.0.1", *api, env=settings.env(),
    )


def action_server(settings: Settings) -> Service:
    return action_service(settings.port("ACTION_PORT"), settings.dir / "logs" / "actions.log", env=settings.env())


def web_server(settings: Settings, database_url: str) -> Service:
    return web_service(
        settings.port("WEB_PORT"), settings.dir / "logs" / "web.log", "--host", "127.0.0.1",
        **{
            **settings.values, **settings.secrets(),
            "RASA_URL": f"http://127.0.0.1:{settings['RASA_LB_PORT']}",
            # the live hand-off's API calls go to the Rasa servers themselves (nginx routes only the chat)
            "RASA_API_URLS": ",".join(f"http://127.0.0.1:{port}" for port in settings.rasa_ports),
            "DATABASE_URL": database_url,
            "SECRET_KEY_FILE": str(settings.dir / "secret_key"),
            "SESSION_COOKIE_SECURE": settings["SESSION_COOKIE_SECURE"],
        },
    )


def retention_job(settings: Settings, web: Service) -> Program:
    """The retention job on the web server's database and settings: at start, then once a day."""
    state = settings.dir / "supervisor" / "retention.json"
    cmd = [str(BIN / "python"), "-m", "bot.staff.retention", "--every", "86400", "--state", str(state)]
    return Program("retention", cmd, settings.dir / "logs" / "retention.log", Check("retention", [str(state)]),
                   env_delta(web.env), description="deletes conversations older than retention_days, once a day")


@dataclass
class Stack:
    """Every process of the profile, under one supervisord: start() renders the configuration and waits until every
    service answers its health check; stop() stops them all (nginx first, PostgreSQL last)."""

    settings: Settings
    postgres: Postgres = field(init=False)
    redis: Redis = field(init=False)
    nginx: Nginx = field(init=False)
    actions: Service = field(init=False)
    rasa: List[Service] = field(init=False)
    web: Service = field(init=False)
    supervisor: Supervisor = field(init=False)

    def __post_init__(self) -> None:
        s = self.settings
        self.postgres, self.redis, self.nginx = Postgres(s), Redis(s), Nginx(s)
        self.actions = action_server(s)
        self.rasa = [rasa_server(s, port) for port in s.rasa_ports]
        self.web = web_server(s, self.postgres.url)
        self.supervisor = Supervisor(s.dir / "supervisor", s.dir / "logs")

    @property
    def url(self) -> str:
        """The public entry point (nginx)."""
        return f"http://127.0.0.1:{self.settings['NGINX_PORT']}"

    @property
    def services(self) -> List[Service]:
        return [self.actions, *self.rasa, self.web]

    @property
    def names(self) -> List[str]:
        """Every supervised service, in start order."""
        return [program.name for program in self.programs()]

    def programs(self) -> List[Program]:
        described = {"actions": "action server (rasa-sdk)", "web": "web server: chat page, widget proxy, staff console"}
        return [
            self.postgres.program(),
            self.redis.program(),
            *(Program.from_service(s, described.get(s.name, "Rasa server (REST channel)")) for s in self.services),
            retention_job(self.settings, self.web),
            alerts_worker(self.settings.dir / "supervisor" / "alerts.json", self.settings.dir / "logs" / "alerts.log",
                          self.web.env, f"http://localhost:{self.settings['NGINX_PORT']}"),
            self.nginx.program(),
        ]

    def prepare(self, foreground: bool) -> None:
        """PostgreSQL's cluster (once), nginx's and supervisord's configuration."""
        if self.supervisor.running():
            raise RuntimeError("the production profile is already running (make status; make stop-prod)")
        (self.settings.dir / "logs").mkdir(parents=True, exist_ok=True)
        self.postgres.init()
        self.nginx.write_config()
        self.supervisor.write(self.programs(), foreground=foreground)

    def start(self, timeout: float = 300) -> Stack:
        try:
            self.prepare(foreground=False)
            self.supervisor.start()
            self.supervisor.wait_healthy(timeout=timeout)
            self.postgres.ensure_database()  # the password of secrets.env, should it have changed
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self.supervisor.running():
            self.supervisor.shutdown()
        pid_dir = self.settings.dir / "pids"
        for pidfile in pid_dir.glob("*.pid"):  # started by the start script before supervisord
            stop_pid(int(pidfile.read_text()))
            pidfile.unlink()

    # ---- one service (tests, bench)
    def pid(self, name: str) -> int:
        return self.supervisor.pid(name)

    def stop_service(self, name: str) -> None:
        """Stopped on purpose: supervisord leaves it down until start_service()."""
        self.supervisor.stop(name)

    def start_service(self, name: str, timeout: float = 300) -> None:
        self.supervisor.start_service(name)
        self.supervisor.wait_healthy([name], timeout)

    def restart_service(self, name: str) -> None:
        self.stop_service(name)
        self.start_service(name)


def summary(stack: Stack) -> str:
    """What `make run-prod` prints once everything is up (tests/test_prod.py opens every address in it)."""
    s = stack.settings
    return (
        f"Production profile up under supervisord ({len(stack.rasa)} Rasa servers behind nginx, PostgreSQL "
        f":{s['PG_PORT']}, Redis :{s['REDIS_PORT']}); logs in {s.dir / 'logs'}\n"
        f"  chat:          {stack.url}/\n"
        f"  staff console: {stack.url}/staff\n"
        f"  first admin:   {s['FIRST_ADMIN_COMMAND']}   (once; asks for the password)\n"
        "  status:        make status\n"
        "  stop:          make stop-prod"
    )


def staff_users(settings: Settings, args: List[str]) -> int:
    """python -m bot.staff.users on the profile's PostgreSQL (make staff-user PROFILE=prod): the database settings
    come from prod.env and the generated password from $PROD_DIR/secrets.env, so nobody copies them by hand."""
    if not (settings.dir / "secrets.env").exists():
        print(f"error: {settings.dir / 'secrets.env'} does not exist: start the production profile first "
              "(make run-prod), it creates the database", file=sys.stderr)
        return 2
    from sqlalchemy.exc import OperationalError

    from bot.staff import users

    postgres = Postgres(settings)
    os.environ["DATABASE_URL"] = postgres.url
    try:
        return users.main(args)
    except OperationalError:  # its message is not shown: nothing of the connection's password may reach a terminal
        print(f"error: cannot connect to the production profile's PostgreSQL on 127.0.0.1:{postgres.port}; "
              "is it running? (make run-prod)", file=sys.stderr)
        return 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["start", "stop", "status", "foreground", "env", "users"])
    parser.add_argument("args", nargs=argparse.REMAINDER, help="users: the arguments of python -m bot.staff.users")
    options = parser.parse_args()
    if options.args and options.command != "users":
        parser.error(f"{options.command} takes no arguments")
    settings = Settings.load()
    if options.command == "users":
        return staff_users(settings, options.args)
    stack = Stack(settings)
    if options.command == "env":  # the EnvironmentFile of the native systemd units (config/systemd/): it holds secrets
        values = {**stack.settings.values, **stack.settings.secrets(), "DATABASE_URL": stack.postgres.url}
        print("".join(f"{key}={value}\n" for key, value in values.items()), end="")
        return 0
    if options.command == "foreground":  # config/systemd/family-support.service: supervisord in the foreground
        stack.prepare(foreground=True)
        cmd = stack.supervisor.foreground_command()
        os.execv(cmd[0], cmd)
    if options.command == "status":
        return status(f"make run-prod ({stack.supervisor.dir})", stack.supervisor)
    if options.command == "stop":
        stack.stop()
        print("production profile stopped")
        return 0
    stack.start()
    print(summary(stack))
    return 0


if __name__ == "__main__":
    sys.exit(main())
