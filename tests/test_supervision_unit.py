"""bot/supervision.py without running services: the rendered configuration as supervisord itself reads it, and
health checks against what is (not) listening."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml
from supervisor.datatypes import RestartUnconditionally
from supervisor.options import ServerOptions

from bot.supervision import Check, Program, Supervisor, quote_env
from scripts.dev import DevProfile
from tests import servers


def parsed(conf: Path) -> ServerOptions:
    """The configuration as supervisord parses it (the same code as `supervisord -c`)."""
    options = ServerOptions()
    options.realize(args=["-c", str(conf)])
    return options


def test_the_make_run_configuration_supervises_every_service_with_restarts_backoff_and_rotated_logs(
    tmp_path: Path,
) -> None:
    profile = DevProfile.load({"VAR_DIR": str(tmp_path), "ACTION_PORT": "15055", "RASA_PORT": "15005",
                               "WEB_PORT": "18000"})
    supervisor = profile.write()
    groups = {group.name: group.process_configs[0] for group in parsed(supervisor.conf).process_group_configs}
    assert set(groups) == {"watchdog", "actions", "rasa-15005", "web", "retention", "alerts"}
    for name in ("actions", "rasa-15005", "web", "retention", "alerts"):
        config = groups[name]
        assert config.autorestart is RestartUnconditionally and config.startretries == 5 and config.stopasgroup
        assert config.stdout_logfile == str(tmp_path / "logs" / f"{'rasa' if name.startswith('rasa') else name}.log")
        assert config.stdout_logfile_maxbytes == 10 * 1024 * 1024 and config.stdout_logfile_backups == 5
    assert groups["rasa-15005"].startsecs == 30
    assert groups["web"].environment["DATABASE_URL"] == f"sqlite:///{tmp_path / 'conversations.db'}"
    assert groups["alerts"].environment["DATABASE_URL"] == groups["web"].environment["DATABASE_URL"]
    assert groups["alerts"].environment["ALERT_CONSOLE_URL"] == "http://localhost:18000"
    assert groups["web"].command.split()[-2:] == ["--port", "18000"]
    endpoints = yaml.safe_load((tmp_path / "endpoints.yml").read_text())
    default = yaml.safe_load((servers.ROOT / "endpoints.yml").read_text())
    assert endpoints["action_endpoint"]["url"] == "http://localhost:15055/webhook"
    assert endpoints["tracker_store"]["db"] == str(tmp_path / "conversations.db")
    for section in set(default) - {"action_endpoint", "tracker_store"}:  # e.g. nlg: the safety note
        assert endpoints[section] == default[section], section
    assert set(endpoints) == set(default)
    assert oct(supervisor.conf.stat().st_mode & 0o777) == "0o600"
    checks = json.loads(supervisor.health_file.read_text())["checks"]
    assert set(checks) == {"actions", "rasa-15005", "web", "retention", "alerts"}


def test_with_live_chat_on_make_run_starts_rasas_api_with_a_token_the_web_server_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Live hand-off (README): Rasa's API only with staffed hours, on 127.0.0.1, with a generated token."""
    ports = {"VAR_DIR": str(tmp_path), "ACTION_PORT": "15055", "RASA_PORT": "15005", "WEB_PORT": "18000"}

    def rasa_command() -> list[str]:
        conf = parsed(DevProfile.load(ports).write().conf)
        return next(g for g in conf.process_group_configs if g.name == "rasa-15005").process_configs[0].command.split()

    assert "--enable-api" not in rasa_command() and not (tmp_path / "rasa_token").exists()
    provider = tmp_path / "provider.yml"
    provider.write_text("name: Example Recovery\nlive_chat:\n  timezone: UTC\n  hours: {mon: '09:00-17:00'}\n")
    monkeypatch.setenv("PROVIDER_CONFIG", str(provider))
    command = rasa_command()
    token = (tmp_path / "rasa_token").read_text().strip()
    assert len(token) == 48 and oct((tmp_path / "rasa_token").stat().st_mode & 0o777) == "0o600"
    assert "--enable-api" in command and command[command.index("--auth-token") + 1] == token
    assert command[command.index("--interface") + 1] == "127.0.0.1"
    assert DevProfile.load(ports).web_env()["RASA_TOKEN_FILE"] == str(tmp_path / "rasa_token")
    assert rasa_command()[command.index("--auth-token") + 1] == token  # the same token after a restart


def test_environment_values_survive_supervisord_quoting(tmp_path: Path) -> None:
    tricky = {"A": 'say "hi", 100% sure', "B": "back\\slash", "C": "x,y=z", "D": "it's", "E": ""}
    program = Program("web", ["/bin/true"], tmp_path / "web.log", Check("http", ["http://127.0.0.1:1/"]), tricky)
    supervisor = Supervisor(tmp_path / "sup", tmp_path / "logs")
    supervisor.write([program], foreground=True)
    web = next(g for g in parsed(supervisor.conf).process_group_configs if g.name == "web").process_configs[0]
    assert {key: web.environment[key] for key in tricky} == tricky
    for bad in ({"BAD NAME": "x"}, {"A": "both ' and \""}, {"A": '"quoted"'}):
        with pytest.raises(ValueError):
            quote_env(bad)


@pytest.fixture
def http_server() -> Iterator[ThreadingHTTPServer]:
    status = {"code": 200, "body": b'{"status": "ok"}'}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the http.server API)
            self.send_response(status["code"])
            self.end_headers()
            self.wfile.write(status["body"])

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.status = status  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()


def test_http_check_tells_answering_from_not_answering(http_server: ThreadingHTTPServer) -> None:
    url = f"http://127.0.0.1:{http_server.server_address[1]}/healthz"
    assert Check("http", [url]).run().ok
    http_server.status.update(code=503, body=b'{"status": "unhealthy", "database": "unreachable"}')  # type: ignore
    health = Check("http", [url]).run()
    assert (health.ok, health.answering, health.detail) == (False, True, "HTTP 503 database unreachable")
    refused = Check("http", [f"http://127.0.0.1:{servers.free_port()}/"]).run()
    assert (refused.ok, refused.answering, refused.detail) == (False, False, "connection refused")


def test_http_check_times_out_on_a_listener_that_never_answers() -> None:
    with socket.socket() as listener:  # accepts connections (the kernel's backlog) but never reads or answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(5)
        health = Check("http", [f"http://127.0.0.1:{listener.getsockname()[1]}/"]).run(timeout=1)
    assert (health.ok, health.answering, health.detail) == (False, False, "no answer within 1 s")


def test_retention_check_needs_a_successful_run_by_the_running_job(tmp_path: Path) -> None:
    state = tmp_path / "retention.json"
    check = Check("retention", [str(state)])
    assert check.run().detail == "no run yet"
    state.write_text(json.dumps({"ok": True, "deleted": 2, "finished": 0, "pid": os.getpid()}))
    assert check.run().ok and "2 deleted" in check.run().detail
    state.write_text(json.dumps({"ok": False, "error": "OperationalError", "finished": 0, "pid": os.getpid()}))
    assert not check.run().ok and "OperationalError" in check.run().detail
    state.write_text(json.dumps({"ok": True, "deleted": 0, "finished": 0, "pid": 2**22 + 1}))
    assert check.run().detail == "restarted, first run not finished"


def test_alerts_check_needs_a_fresh_heartbeat_from_the_running_worker(tmp_path: Path) -> None:
    state = tmp_path / "alerts.json"
    check = Check("alerts", [str(state)])
    assert check.run().detail == "not started yet"
    state.write_text(json.dumps({"ok": True, "finished": time.time(), "pid": os.getpid(), "channels": ["webhook"]}))
    assert check.run().ok and "webhook" in check.run().detail
    state.write_text(json.dumps({"ok": True, "finished": time.time() - 600, "pid": os.getpid(), "channels": []}))
    assert not check.run().ok and "no heartbeat" in check.run().detail
    state.write_text(json.dumps({"ok": False, "error": "watcher: OperationalError", "finished": time.time(),
                                 "pid": os.getpid()}))
    assert not check.run().ok and "OperationalError" in check.run().detail
    state.write_text(json.dumps({"ok": True, "finished": time.time(), "pid": 2**22 + 1}))
    assert not check.run().ok and check.run().detail == "restarted, not watching yet"


def test_with_live_chat_on_the_production_profile_switches_rasas_api_on_for_the_web_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Live hand-off (README): each Rasa server with the API and the generated token; the web server gets the token
    and every Rasa server's own address (nginx routes only the chat to them)."""
    from scripts.prod import stack

    settings = stack.test_settings(tmp_path, RASA_ENABLE_API="false")
    assert not settings.api_enabled and "--enable-api" not in stack.rasa_server(settings, settings.rasa_ports[0]).cmd
    provider = tmp_path / "provider.yml"
    provider.write_text("name: Example Recovery\nlive_chat:\n  timezone: UTC\n  hours: {mon: '09:00-17:00'}\n")
    monkeypatch.setenv("PROVIDER_CONFIG", str(provider))
    token = settings.secrets()["RASA_TOKEN"]
    for port in settings.rasa_ports:
        command = stack.rasa_server(settings, port).cmd
        assert "--enable-api" in command and command[command.index("--auth-token") + 1] == token
    web = stack.web_server(settings, "postgresql://x@127.0.0.1:1/x")
    assert web.env["RASA_TOKEN"] == token
    assert web.env["RASA_API_URLS"] == ",".join(f"http://127.0.0.1:{port}" for port in settings.rasa_ports)
