"""The project's services under supervisord, in both profiles (scripts/dev.py for make run, scripts/prod/stack.py
for make run-prod): configuration rendered from config/supervisor/, health checks, status and the watchdog.

supervisord restarts a service that dies (backoff and FATAL when it keeps dying at start-up) and rotates its log.
What it does not know is whether a running service answers: each service has a health check here (kept in
<state dir>/health.json), `make status` runs them, and the event listener (`python -m bot.supervision listen DIR`,
started by supervisord itself) counts restarts and kills a service that stopped answering so that it is restarted.

    python -m bot.supervision status DIR      # what make status prints for one profile
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import traceback
import xmlrpc.client
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import yaml

from bot.processes import BIN, ROOT, Service, base_env

CONFIG = ROOT / "config" / "supervisor"
SUPERVISORD = BIN / "supervisord"
LISTENER = "watchdog"
# supervisord's states, as make status names them
STATES = {
    "RUNNING": "up", "STARTING": "starting", "BACKOFF": "restarting", "STOPPING": "stopping",
    "STOPPED": "stopped", "EXITED": "down", "FATAL": "failed", "UNKNOWN": "unknown",
}


def supervision_settings() -> Dict[str, Any]:
    return yaml.safe_load((CONFIG / "supervision.yml").read_text())


def kind_of(name: str) -> str:
    """rasa-5105 -> rasa: settings in supervision.yml are per kind of service."""
    return name.split("-", 1)[0]


def service_settings(name: str, settings: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    settings = settings or supervision_settings()
    return {**settings["defaults"], **(settings["services"].get(kind_of(name)) or {})}


# ----------------------------------------------------------------------------------------------------- health checks
@dataclass
class Health:
    ok: bool
    detail: str
    answering: bool  # False: refused or no answer in time (what the watchdog acts on); True: it answered


@dataclass
class Check:
    """What "healthy" means for one service.

    http: every URL answers 200 within the timeout (the web server's /healthz also queries its database);
    nginx: every URL answers with the pid of a worker whose master is the one in the pid file (the last target):
    the workers of a killed master go on answering until they are cleared;
    postgres: the application's role runs SELECT 1 on its database; redis: PING with the password;
    retention: the job's state file says its last run succeeded;
    alerts: the alerts worker's heartbeat file is fresh (written after every look at the events) and says ok.
    """

    kind: str
    targets: List[str]
    password: str = ""

    def run(self, timeout: float = 3) -> Health:
        try:
            return getattr(self, f"_{self.kind}")(timeout)
        except Exception as error:  # a check never raises: it reports
            return Health(False, f"{type(error).__name__}: {error}"[:120], True)

    @staticmethod
    def _get(url: str, timeout: float) -> Tuple[Optional[Any], Optional[Health]]:
        """The answer to a GET, or the Health that says why there is none (or why it is not a 200)."""
        import requests

        try:
            answer = requests.get(url, timeout=timeout)
        except requests.Timeout:
            return None, Health(False, f"no answer within {timeout:g} s", False)
        except requests.ConnectionError:
            return None, Health(False, "connection refused", False)
        if answer.status_code != 200:
            return answer, Health(False, f"HTTP {answer.status_code} {reason(answer)}".strip(), True)
        return answer, None

    def _http(self, timeout: float) -> Health:
        for url in self.targets:
            _, failed = self._get(url, timeout)
            if failed:
                return failed
        return Health(True, "ok", True)

    def _nginx(self, timeout: float) -> Health:
        from bot.reap import running, stat_fields

        *urls, pidfile = self.targets
        for url in urls:
            answer, failed = self._get(url, timeout)
            if failed or answer is None:
                return failed or Health(False, "no answer", False)
            worker = stat_fields(int(answer.text.strip() or 0))
            try:
                master = int(Path(pidfile).read_text().split()[0])
            except (OSError, ValueError, IndexError):
                master = 0
            if not worker or int(worker[1]) != master or not running(master):
                return Health(False, "answered by a worker of a master that is gone", True)
        return Health(True, "ok", True)

    def _postgres(self, timeout: float) -> Health:
        import psycopg2

        try:
            connection = psycopg2.connect(
                self.targets[0], connect_timeout=max(1, int(timeout)),
                options=f"-c statement_timeout={int(timeout * 1000)}",
            )
        except psycopg2.OperationalError as error:
            text = str(error).strip().splitlines()[0] if str(error).strip() else "cannot connect"
            if "refused" in text:
                return Health(False, "connection refused", False)
            if "timeout" in text:
                return Health(False, f"no answer within {timeout:g} s", False)
            return Health(False, text[:120], True)  # it answered: e.g. a wrong password, the database missing
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
                cursor.fetchone()
        finally:
            connection.close()
        return Health(True, "SELECT 1 answered", True)

    def _redis(self, timeout: float) -> Health:
        import redis

        client = redis.Redis(port=int(self.targets[0]), password=self.password or None, socket_timeout=timeout,
                             socket_connect_timeout=timeout)
        try:
            client.ping()
        except (redis.ConnectionError, redis.TimeoutError) as error:
            return Health(False, str(error)[:120] or "no answer", False)
        finally:
            client.close()
        return Health(True, "PING answered", True)

    def _retention(self, timeout: float) -> Health:
        path = Path(self.targets[0])
        if not path.exists():
            return Health(False, "no run yet", True)
        state = json.loads(path.read_text())
        if not alive(int(state.get("pid", 0))):
            return Health(False, "restarted, first run not finished", True)
        ago = duration(time.time() - state["finished"])
        if not state["ok"]:
            return Health(False, f"last run failed {ago} ago: {state.get('error', '')}"[:120], True)
        return Health(True, f"last run {ago} ago, {state['deleted']} deleted", True)


    def _alerts(self, timeout: float) -> Health:
        path = Path(self.targets[0])
        if not path.exists():
            return Health(False, "not started yet", True)
        state = json.loads(path.read_text())
        if not alive(int(state.get("pid", 0))):
            return Health(False, "restarted, not watching yet", True)
        age = time.time() - state["finished"]
        if age > ALERTS_STALE:
            return Health(False, f"no heartbeat for {duration(age)}", True)
        if not state["ok"]:
            return Health(False, f"failing: {state.get('error', '')}"[:120], True)
        channels = ", ".join(state.get("channels") or []) or "console only"
        return Health(True, f"watching; delivers by {channels}", True)


ALERTS_STALE = 30  # seconds without a heartbeat before the alerts worker counts as stuck


def reason(answer: Any) -> str:
    """The web server's /healthz says what is wrong ({"database": "unreachable"}); other bodies are not shown."""
    try:
        body = answer.json()
    except ValueError:
        return ""
    if isinstance(body, dict):
        return " ".join(f"{key} {value}" for key, value in body.items() if key != "status" and value != "ok")
    return ""


def duration(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"


# ------------------------------------------------------------------------------------------------------------ programs
@dataclass
class Program:
    """One supervised service: its command, extra environment, log file and health check."""

    name: str
    cmd: List[str]
    log: Path
    check: Check
    env: Dict[str, str] = field(default_factory=dict)
    user: Optional[str] = None
    description: str = ""

    @classmethod
    def from_service(cls, service: Service, description: str, check: Optional[Check] = None) -> Program:
        """A service of bot/processes.py (same command, environment and log file)."""
        return cls(service.name, service.cmd, service.log, check or Check("http", [service.url + service.health_path]),
                   env_delta(service.env), description=description)


def env_delta(env: Dict[str, str]) -> Dict[str, str]:
    """The variables a service needs beyond the environment supervisord is started with (its own are inherited)."""
    keep = {"PYTHONPATH", "TF_CPP_MIN_LOG_LEVEL", "RASA_TELEMETRY_ENABLED", "SQLALCHEMY_SILENCE_UBER_WARNING"}
    return {key: value for key, value in env.items() if key in keep or os.environ.get(key) != value}


def quote_command(cmd: List[str]) -> str:
    """supervisord splits command= with shlex and expands %(...)s."""
    import shlex

    return " ".join(shlex.quote(part) for part in cmd).replace("%", "%%")


def quote_env(env: Dict[str, str]) -> str:
    """supervisord's environment= (non-POSIX shlex: quotes are kept and stripped, backslashes are literal)."""

    def value(text: str) -> str:
        quote = "'" if '"' in text else '"'
        if quote in text or (text and (text[0] in "'\"" or text[-1] in "'\"")):
            raise ValueError(f"cannot pass this value through supervisord's environment=: {text!r}")
        return quote + text.replace("%", "%%") + quote

    for key in env:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            raise ValueError(f"environment variable name {key!r}")
    return ",".join(f"{key}={value(text)}" for key, text in sorted(env.items()))


def fill(template: str, values: Dict[str, str]) -> str:
    for key, value in values.items():
        template = template.replace("{{" + key + "}}", value)
    left = re.findall(r"\{\{\w+\}\}", template)
    if left:
        raise ValueError(f"unfilled placeholders {left}")
    return template


# ---------------------------------------------------------------------------------------------------------- supervisor
class Supervisor:
    """supervisord for one profile, its files in `directory` (configuration, socket, health checks, counts)."""

    def __init__(self, directory: Path, log_dir: Path) -> None:
        self.dir = directory
        self.log_dir = log_dir
        self.conf = directory / "supervisord.conf"
        self.socket = directory / "supervisor.sock"
        self.pidfile = directory / "supervisord.pid"
        self.health_file = directory / "health.json"
        self.state_file = directory / "state.json"

    # ---- configuration
    def render(self, programs: List[Program], foreground: bool) -> str:
        settings = supervision_settings()
        logs = {"LOG_MAXBYTES": str(settings["logs"]["maxbytes"]), "LOG_BACKUPS": str(settings["logs"]["backups"])}
        sections = []
        for program in programs:
            options = service_settings(program.name, settings)
            sections.append(fill((CONFIG / "program.conf.template").read_text(), {
                "NAME": program.name, "DESCRIPTION": program.description or program.name,
                "COMMAND": quote_command(program.cmd), "ROOT": str(ROOT), "ENVIRONMENT": quote_env(program.env),
                "USER": f"user={program.user}\n" if program.user else "", "PRIORITY": str(options["priority"]),
                "STARTSECS": str(options["startsecs"]), "STARTRETRIES": str(options["startretries"]),
                "STOPSIGNAL": str(options["stopsignal"]), "STOPWAITSECS": str(options["stopwaitsecs"]),
                "LOG": str(program.log), **logs,
            }))
        return fill((CONFIG / "supervisord.conf.template").read_text(), {
            "DIR": str(self.dir), "LOG_DIR": str(self.log_dir), "ROOT": str(ROOT), "PYTHON": str(BIN / "python"),
            "NODAEMON": "true" if foreground else "false",
            "WATCHDOG_FAILURES": str(settings["watchdog"]["failures"]), "PROGRAMS": "\n".join(sections), **logs,
        })

    def write(self, programs: List[Program], foreground: bool) -> None:
        """The configuration and the health checks (0600: they hold passwords); the restart counts start at 0."""
        if self.running():
            raise RuntimeError(f"supervisord is already running for {self.dir} (make status)")
        self.dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        settings = supervision_settings()
        checks = {
            program.name: {**asdict(program.check), "watchdog": bool(service_settings(program.name)["watchdog"])}
            for program in programs
        }
        for path, text in (
            (self.conf, self.render(programs, foreground)),
            (self.health_file, json.dumps({"checks": checks, "watchdog": settings["watchdog"]}, indent=1)),
        ):
            path.touch(mode=0o600)
            path.chmod(0o600)
            path.write_text(text)
        self.state_file.unlink(missing_ok=True)

    # ---- supervisord
    def rpc(self) -> Any:
        from supervisor.xmlrpc import SupervisorTransport

        return xmlrpc.client.ServerProxy(
            "http://127.0.0.1", transport=SupervisorTransport(None, None, f"unix://{self.socket}")
        ).supervisor

    def running(self) -> bool:
        if not self.socket.exists():
            return False
        try:
            return self.rpc().getState()["statename"] == "RUNNING"
        except (OSError, xmlrpc.client.Fault):
            return False

    def start(self) -> None:
        """supervisord in the background (it daemonizes); returns once it answers on its socket."""
        subprocess.run([str(SUPERVISORD), "-c", str(self.conf)], check=True, cwd=ROOT, env=base_env(), timeout=60)
        deadline = time.monotonic() + 30
        while not self.running():
            if time.monotonic() > deadline:
                raise RuntimeError(f"supervisord did not start; see {self.log_dir / 'supervisord.log'}")
            time.sleep(0.2)

    def foreground_command(self) -> List[str]:
        return [str(SUPERVISORD), "-n", "-c", str(self.conf)]

    def shutdown(self, timeout: float = 120) -> None:
        """Stop every service (in reverse priority order) and supervisord."""
        pid = self.supervisord_pid()
        try:
            self.rpc().shutdown()
        except (OSError, xmlrpc.client.Fault):
            pass
        deadline = time.monotonic() + timeout
        while pid and alive(pid) and time.monotonic() < deadline:
            time.sleep(0.2)

    def supervisord_pid(self) -> Optional[int]:
        try:
            return int(self.pidfile.read_text())
        except (OSError, ValueError):
            return None

    # ---- services
    def info(self) -> List[Dict[str, Any]]:
        """The services in the order they start (the listener left out)."""
        order = list(self.checks())
        infos = [info for info in self.rpc().getAllProcessInfo() if info["name"] in order]
        return sorted(infos, key=lambda info: order.index(info["name"]))

    def process(self, name: str) -> Dict[str, Any]:
        return self.rpc().getProcessInfo(name)

    def pid(self, name: str) -> int:
        return int(self.process(name)["pid"])

    def stop(self, name: str) -> None:
        self.rpc().stopProcess(name, True)

    def start_service(self, name: str) -> None:
        """Start a stopped service without waiting (wait_healthy waits)."""
        self.rpc().startProcess(name, False)

    def checks(self) -> Dict[str, Check]:
        data = json.loads(self.health_file.read_text())["checks"]
        return {name: Check(spec["kind"], spec["targets"], spec.get("password", "")) for name, spec in data.items()}

    def health(self, name: str, timeout: float = 3) -> Health:
        return self.checks()[name].run(timeout)

    def counts(self) -> Dict[str, Dict[str, int]]:
        """Restarts and watchdog kills per service since supervisord started (written by the listener)."""
        try:
            return json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            return {"restarts": {}, "watchdog": {}}

    def restarts(self, name: str) -> int:
        return int(self.counts().get("restarts", {}).get(name, 0))

    def wait_healthy(self, names: Optional[List[str]] = None, timeout: float = 300) -> Dict[str, float]:
        """Wait until every named service (default: all) runs and passes its health check; seconds each took."""
        checks = self.checks()
        waiting = list(names or checks)
        start = time.monotonic()
        took: Dict[str, float] = {}
        while waiting:
            for name in list(waiting):
                info = self.process(name)
                if info["statename"] == "FATAL":
                    raise RuntimeError(f"{name} failed to start: see {info['stdout_logfile']}")
                if info["statename"] in ("RUNNING", "STARTING") and checks[name].run().ok:
                    took[name] = time.monotonic() - start
                    waiting.remove(name)
            if waiting:
                if time.monotonic() - start > timeout:
                    rows = {name: (self.process(name)["statename"], checks[name].run().detail) for name in waiting}
                    raise RuntimeError(f"not healthy after {timeout:g} s: {rows}")
                time.sleep(0.3)
        return took

    # ---- status
    def rows(self) -> List[Dict[str, str]]:
        infos = self.info()
        checks = self.checks()
        counts = self.counts()
        with ThreadPoolExecutor(max(len(infos), 1)) as pool:
            healths = dict(zip([i["name"] for i in infos], pool.map(lambda i: checks[i["name"]].run(), infos),
                               strict=True))
        rows = []
        for info in infos:
            name, health = info["name"], healths[info["name"]]
            up = info["statename"] in ("RUNNING", "STARTING")
            watchdog = counts.get("watchdog", {}).get(name, 0)
            restarts = str(counts.get("restarts", {}).get(name, 0)) + (f" ({watchdog} by watchdog)" if watchdog else "")
            if health.ok:
                shown = "ok" if health.detail == "ok" else f"ok ({health.detail})"
            else:
                shown = f"UNHEALTHY: {health.detail}"
            rows.append({
                "service": name,
                "state": STATES.get(info["statename"], info["statename"].lower()),
                "pid": str(info["pid"]) if up else "-",
                "uptime": duration(info["now"] - info["start"]) if up else "-",
                "restarts": restarts,
                "health": shown,
            })
        return rows

    def report(self) -> str:
        rows = self.rows()
        columns = ["service", "state", "pid", "uptime", "restarts", "health"]
        widths = {c: max(len(c), *(len(r[c]) for r in rows)) for c in columns}
        lines = ["  ".join(c.ljust(widths[c]) for c in columns).rstrip()]
        lines += ["  ".join(r[c].ljust(widths[c]) for c in columns).rstrip() for r in rows]
        return "\n".join(lines)


def alive(pid: int) -> bool:
    """The process exists and is not a zombie."""
    from bot.reap import running

    return running(pid)


def status(label: str, supervisor: Supervisor) -> int:
    """make status for one profile: 0 when every service is up and healthy."""
    if not supervisor.running():
        print(f"{label}: not running")
        return 0
    pid = supervisor.supervisord_pid()
    print(f"{label}: supervisord pid {pid}, logs in {supervisor.log_dir}")
    rows = supervisor.rows()
    print(supervisor.report())
    return 0 if all(row["state"] in ("up", "starting") and row["health"].startswith("ok") for row in rows) else 1


# ------------------------------------------------------------------------------------------------- the event listener
class Listener:
    """supervisord event listener: counts automatic restarts (PROCESS_STATE_STARTING after EXITED or BACKOFF) and
    runs the health checks every 5 s (TICK_5); a service with the watchdog on that answered since it started and then
    gave no answer `failures` times in a row is killed (SIGKILL), so supervisord restarts it."""

    def __init__(self, supervisor: Supervisor) -> None:
        self.supervisor = supervisor
        data = json.loads(supervisor.health_file.read_text())
        self.failures_allowed = int(data["watchdog"]["failures"])
        self.timeout = float(data["watchdog"]["timeout"])
        self.watched = {name for name, spec in data["checks"].items() if spec.get("watchdog")}
        self.checks = supervisor.checks()
        self.counts = supervisor.counts()
        self.answered: Dict[str, int] = {}  # name -> pid that answered its check once
        self.failures: Dict[str, int] = {}

    def save(self) -> None:
        path = self.supervisor.state_file
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.counts))
        tmp.replace(path)

    def count(self, kind: str, name: str) -> None:
        self.counts.setdefault(kind, {})[name] = self.counts.get(kind, {}).get(name, 0) + 1
        self.save()

    def on_state(self, event: str, payload: Dict[str, str]) -> None:
        name = payload.get("processname", "")
        if event == "PROCESS_STATE_STARTING" and payload.get("from_state") in ("EXITED", "BACKOFF"):
            self.count("restarts", name)
            log(f"{name}: restarting (from {payload['from_state']})")
        elif event == "PROCESS_STATE_EXITED" and payload.get("expected") == "0":
            log(f"{name}: pid {payload.get('pid')} exited unexpectedly")
        elif event == "PROCESS_STATE_FATAL":
            log(f"{name}: FATAL (kept dying at start-up)")

    def on_tick(self) -> None:
        rpc = self.supervisor.rpc()
        infos = {info["name"]: info for info in rpc.getAllProcessInfo() if info["name"] in self.watched}
        running = [info for info in infos.values() if info["statename"] in ("RUNNING", "STARTING")]
        with ThreadPoolExecutor(max(len(running), 1)) as pool:
            results = list(pool.map(lambda info: (info, self.checks[info["name"]].run(self.timeout)), running))
        for info, health in results:
            name, pid = info["name"], info["pid"]
            if health.ok:
                self.answered[name], self.failures[name] = pid, 0
                continue
            if health.answering or self.answered.get(name) != pid:
                continue  # it answers (a dependency is down), or has not answered yet since it started
            self.failures[name] = self.failures.get(name, 0) + 1
            if self.failures[name] >= self.failures_allowed:
                log(f"{name}: pid {pid} gave no answer {self.failures[name]} times ({health.detail}): killing it")
                self.failures[name] = 0
                self.count("watchdog", name)
                rpc.signalProcess(name, "KILL")

    def run(self) -> None:
        from supervisor import childutils

        while True:
            headers, payload = childutils.listener.wait(sys.stdin, sys.stdout)
            try:
                event = headers["eventname"]
                if event.startswith("PROCESS_STATE"):
                    self.on_state(event, childutils.get_headers(payload.split("\n", 1)[0]))
                elif event.startswith("TICK"):
                    self.on_tick()
            except Exception:
                traceback.print_exc(file=sys.stderr)
            childutils.listener.ok(sys.stdout)


def log(message: str) -> None:
    print(time.strftime("%Y-%m-%d %H:%M:%S"), message, file=sys.stderr, flush=True)


def main(argv: List[str]) -> int:
    if len(argv) == 2 and argv[0] == "listen":
        directory = Path(argv[1])
        Listener(Supervisor(directory, directory)).run()
        return 0
    if len(argv) == 2 and argv[0] == "status":
        directory = Path(argv[1])
        found = re.search(r"^logfile=(.*)/supervisord\.log", (directory / "supervisord.conf").read_text(), re.M)
        return status(str(directory), Supervisor(directory, Path(found.group(1)) if found else directory))
    print(__doc__, file=sys.stderr)
    return 2


def which(name: str) -> str:
    """A system program's absolute path (supervisord runs commands without a shell)."""
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin:/sbin:/bin")
    if not found:
        raise RuntimeError(f"{name} is not installed")
    return found


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
