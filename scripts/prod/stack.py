"""The production profile on one machine: PostgreSQL, Redis, nginx, N Rasa servers, the action server, the web server.

    python -m scripts.prod.stack start     # scripts/prod/start.sh (make run-prod) installs the Debian packages first
    python -m scripts.prod.stack stop      # scripts/prod/stop.sh (make stop-prod)
    python -m scripts.prod.stack users create NAME --role admin   # make staff-user PROFILE=prod NAME=... ROLE=...

Settings come from config/prod/prod.env, overridden by environment variables of the same name. Secrets (the
database and Redis passwords, the Rasa API token) are generated on first start into $PROD_DIR/secrets.env (0600),
never committed. The tests (tests/test_prod.py) and the benchmark (bench/) start the same stack on free ports in a
temporary directory (:func:`test_settings`).
"""

from __future__ import annotations

import argparse
import glob
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Mapping, Optional

from bot.processes import ROOT, Service, action_service, base_env, free_port, rasa_service, web_service

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
        return self["RASA_ENABLE_API"].lower() in ("1", "true", "yes")

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
def wait_for_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"nothing listens on port {port} after {timeout}s")


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
    """A PostgreSQL cluster of its own under $PROD_DIR/pg (run as the `postgres` user when started as root)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.dir = settings.dir / "pg"
        self.data = self.dir / "data"
        self.socket_dir = self.dir / "run"
        self.port = settings.port("PG_PORT")
        self.log = str(self.dir / "postgres.log")

    @staticmethod
    def binary(name: str) -> str:
        found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(p.split("/")[4]))
        if not found:
            raise RuntimeError("PostgreSQL is not installed: scripts/system-deps.sh postgresql")
        return found[-1]

    def _cmd(self, name: str, *args: str) -> List[str]:
        owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        return [*owner, self.binary(name), *args]

    @property
    def url(self) -> str:
        s, password = self.settings, self.settings.secrets()["PG_PASSWORD"]
        return f"postgresql://{s['PG_USER']}:{password}@127.0.0.1:{self.port}/{s['PG_DB']}"

    def init(self) -> None:
        if (self.data / "PG_VERSION").exists():
            return
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
            shutil.chown(self.socket_dir, "postgres", "postgres")
        run(self._cmd("initdb", "-D", str(self.data), "-U", "postgres", "-E", "UTF8", "--locale=C",
                      "--auth-local=trust", "--auth-host=scram-sha-256"), cwd=self.dir)
        # local (socket) connections: only the owner of the socket directory may connect
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(f"unix_socket_directories = '{self.socket_dir}'\nunix_socket_permissions = 0700\n")

    def pg_ctl(self, *args: str) -> None:
        run(self._cmd("pg_ctl", "-D", str(self.data), *args), cwd=self.dir)

    def start(self) -> None:
        self.init()
        options = f"-p {self.port} -c listen_addresses=127.0.0.1"
        self.pg_ctl("-l", self.log, "-o", options, "-w", "-t", "60", "start")
        self.ensure_database()

    def restart(self) -> None:
        """pg_ctl restart -m fast: every connection is cut, the server is back after a second or two."""
        self.pg_ctl("-l", self.log, "-m", "fast", "-w", "-t", "60", "restart")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self.pg_ctl("-m", "fast", "-w", "stop")

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

    def start(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        conf = self.dir / "redis.conf"
        conf.touch(mode=0o600)
        conf.write_text(
            f"port {self.port}\nbind 127.0.0.1\nprotected-mode yes\n"
            f"requirepass {self.settings.secrets()['REDIS_PASSWORD']}\n"
            f"daemonize yes\npidfile {self.dir / 'redis.pid'}\nlogfile {self.dir / 'redis.log'}\ndir {self.dir}\n"
            'save ""\nappendonly no\n'
        )
        run(["redis-server", str(conf)])
        deadline = time.monotonic() + 30
        while True:
            try:
                self.client().ping()
                return
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def stop(self) -> None:
        pidfile = self.dir / "redis.pid"
        if pidfile.exists():
            try:
                os.kill(int(pidfile.read_text()), signal.SIGTERM)
            except (ProcessLookupError, ValueError):
                pass
            pidfile.unlink(missing_ok=True)


class Nginx:
    """nginx from config/prod/nginx.conf.template, its files under $PROD_DIR/nginx."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.dir = settings.dir / "nginx"
        self.conf = self.dir / "nginx.conf"

    def render(self) -> str:
        servers = "\n".join(
            f"        server 127.0.0.1:{port} max_fails=1 fail_timeout=5s;" for port in self.settings.rasa_ports
        )
        values = dict(self.settings.values, NGINX_DIR=str(self.dir), RASA_SERVERS=servers)
        text = NGINX_TEMPLATE.read_text()
        for key, value in values.items():
            text = text.replace("{{" + key + "}}", value)
        if "{{" in text:
            raise ValueError(f"unfilled placeholder in {NGINX_TEMPLATE}")
        return text

    def _cmd(self, *args: str) -> List[str]:
        return ["nginx", "-c", str(self.conf), "-p", str(self.dir), "-e", str(self.dir / "error.log"), *args]

    def start(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        self.conf.write_text(self.render())
        run(self._cmd("-t"))
        run(self._cmd())
        wait_for_port(self.settings.port("NGINX_PORT"))

    def stop(self) -> None:
        pidfile = self.dir / "nginx.pid"
        if pidfile.exists():
            try:
                os.kill(int(pidfile.read_text()), signal.SIGQUIT)  # graceful: finish the requests in flight
            except (ProcessLookupError, ValueError):
                pass


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
            "DATABASE_URL": database_url,
            "SECRET_KEY_FILE": str(settings.dir / "secret_key"),
            "SESSION_COOKIE_SECURE": settings["SESSION_COOKIE_SECURE"],
        },
    )


@dataclass
class Stack:
    """Every process of the profile. start() brings them up in order; stop() takes them down in reverse."""

    settings: Settings
    postgres: Postgres = field(init=False)
    redis: Redis = field(init=False)
    nginx: Nginx = field(init=False)
    actions: Service = field(init=False)
    rasa: List[Service] = field(init=False)
    web: Service = field(init=False)

    def __post_init__(self) -> None:
        s = self.settings
        self.postgres, self.redis, self.nginx = Postgres(s), Redis(s), Nginx(s)
        self.actions = action_server(s)
        self.rasa = [rasa_server(s, port) for port in s.rasa_ports]
        self.web = web_server(s, self.postgres.url)

    @property
    def url(self) -> str:
        """The public entry point (nginx)."""
        return f"http://127.0.0.1:{self.settings['NGINX_PORT']}"

    @property
    def services(self) -> List[Service]:
        return [self.actions, *self.rasa, self.web]

    @property
    def pid_dir(self) -> Path:
        return self.settings.dir / "pids"

    def start(self) -> Stack:
        for directory in (self.pid_dir, self.settings.dir / "logs"):
            directory.mkdir(parents=True, exist_ok=True)
        try:
            self.postgres.start()
            self.redis.start()
            with ThreadPoolExecutor(len(self.services)) as pool:  # the Rasa servers load their models in parallel
                list(pool.map(self.start_service, self.services))
            self.nginx.start()
        except BaseException:
            self.stop()
            raise
        return self

    def start_service(self, service: Service) -> None:
        service.start(timeout=300)
        assert service.proc is not None
        (self.pid_dir / f"{service.name}.pid").write_text(str(service.proc.pid))

    def stop(self) -> None:
        self.nginx.stop()
        for service in self.services:  # started by this process
            service.stop()
        for pidfile in self.pid_dir.glob("*.pid"):  # started by `stack start` in another process
            stop_pid(int(pidfile.read_text()))
            pidfile.unlink()
        self.redis.stop()
        self.postgres.stop()


def summary(stack: Stack) -> str:
    """What `make run-prod` prints once everything is up (tests/test_prod.py opens every address in it)."""
    s = stack.settings
    return (
        f"Production profile up ({len(stack.rasa)} Rasa servers behind nginx, PostgreSQL :{s['PG_PORT']}, "
        f"Redis :{s['REDIS_PORT']}); logs in {s.dir / 'logs'}\n"
        f"  chat:          {stack.url}/\n"
        f"  staff console: {stack.url}/staff\n"
        f"  first admin:   {s['FIRST_ADMIN_COMMAND']}   (once; asks for the password)\n"
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
    parser.add_argument("command", choices=["start", "stop", "users"])
    parser.add_argument("args", nargs=argparse.REMAINDER, help="users: the arguments of python -m bot.staff.users")
    options = parser.parse_args()
    settings = Settings.load()
    if options.command == "users":
        return staff_users(settings, options.args)
    stack = Stack(settings)
    if options.command == "stop":
        stack.stop()
        print("production profile stopped")
        return 0
    stack.start()
    print(summary(stack))
    return 0


if __name__ == "__main__":
    sys.exit(main())
