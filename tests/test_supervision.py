"""make run under supervisord (scripts/run.sh, scripts/dev.py, bot/supervision.py), started as `make run` starts it
on free ports in a temporary directory: make status, kill -9 of every service (back and answering within 30 s, the
conversation goes on with its history, the staff console lists it), the widget while Rasa is down, a stuck Rasa,
a service that keeps crashing, and Ctrl-C. The tests share one running profile and run in file order.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator

import pytest
from playwright.sync_api import Page, expect

from bot.supervision import Check, Program, Supervisor, alive
from scripts.dev import DevProfile
from tests import servers
from tests.staff_fixtures import create_user
from tests.supervised import FIRST, MORE, StaffConsole, conversation_across_kill, expected_more, turn
from tests.test_widget import PageFactory, ask, bot_bubbles, browser, new_page, open_chat, playwright  # noqa: F401

pytestmark = pytest.mark.servers  # the widget test is also `browser` (conftest: its `browser` fixture)
PASSWORD = "correct horse battery staple"


@dataclass
class DevRun:
    process: subprocess.Popen
    profile: DevProfile
    supervisor: Supervisor
    env: Dict[str, str]
    console: StaffConsole
    more: str

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.profile.web_port}"


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevRun]:
    """scripts/run.sh (what make run starts) in its own session, as in a terminal."""
    var = tmp_path_factory.mktemp("make-run")
    env = servers.base_env(VAR_DIR=str(var), ACTION_PORT=str(servers.free_port()),
                           RASA_PORT=str(servers.free_port()), WEB_PORT=str(servers.free_port()))
    profile = DevProfile.load(env)
    with open(var / "terminal.log", "wb") as terminal:
        process = subprocess.Popen([str(servers.ROOT / "scripts" / "run.sh")], env=env, stdout=terminal,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    supervisor = profile.supervisor
    try:
        deadline = time.monotonic() + 60
        while not supervisor.running():
            assert process.poll() is None and time.monotonic() < deadline, (var / "terminal.log").read_text()
            time.sleep(0.2)
        supervisor.wait_healthy(timeout=300)
        created = create_user(profile.database_url, "admin", "admin", PASSWORD)
        assert created.returncode == 0, created.stderr
        url = f"http://127.0.0.1:{profile.web_port}"
        console = StaffConsole(url, "admin", PASSWORD)
        console.login()
        yield DevRun(process, profile, supervisor, env, console, expected_more(url))
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)
            process.wait(timeout=120)


def status(run: DevRun) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "scripts.dev", "status"], env=run.env, cwd=servers.ROOT,
                          capture_output=True, text=True, timeout=120)


def row(output: str, service: str) -> str:
    return next(line for line in output.splitlines() if line.split()[:1] == [service])


def test_status_shows_every_service_up_with_pid_uptime_restarts_and_health(dev: DevRun) -> None:
    shown = status(dev)
    assert shown.returncode == 0, shown.stdout
    assert shown.stdout.splitlines()[1].split() == ["service", "state", "pid", "uptime", "restarts", "health"]
    for name in ("actions", f"rasa-{dev.profile.rasa_port}", "web", "retention", "alerts"):
        fields = row(shown.stdout, name).split()
        assert fields[1] in ("up", "starting") and int(fields[2]) == dev.supervisor.pid(name), fields
        assert fields[4] == "0" and fields[5] == "ok", fields


@pytest.mark.parametrize("kind", ["actions", "rasa", "web", "retention", "alerts"])
def test_a_killed_service_comes_back_and_the_conversation_goes_on(dev: DevRun, kind: str) -> None:
    name = f"rasa-{dev.profile.rasa_port}" if kind == "rasa" else kind
    conversation_across_kill(dev.supervisor, name, dev.url, dev.more, dev.console)
    fields = row(status(dev).stdout, name).split()
    assert fields[4] == "1" and fields[5] == "ok", fields  # make status shows the restart


def test_the_widget_while_rasa_is_down_offers_retry_and_get_help_now(dev: DevRun, new_page: PageFactory) -> None:  # noqa: F811
    page: Page = new_page()
    open_chat(page, dev.url)
    ask(page, FIRST)
    name = f"rasa-{dev.profile.rasa_port}"
    old = dev.supervisor.pid(name)
    os.kill(old, signal.SIGKILL)  # Rasa takes seconds to load its model again: the widget meets it down
    ask(page, MORE)
    error = page.locator(".fc-msg-error")
    expect(error).to_contain_text("can't reach the assistant")
    expect(error).to_contain_text("1-800-662-4357")
    expect(error.get_by_role("button", name="Retry")).to_be_visible()
    panel = page.locator(".fc-panel")
    panel.get_by_role("button", name="Get help now").click()
    expect(page.get_by_role("region", name="Get help now").locator('a[href="tel:911"]')).to_be_visible()
    panel.get_by_role("button", name="Back to the chat").click()
    dev.supervisor.wait_healthy([name], timeout=60)
    error.get_by_role("button", name="Retry").click()
    expect(bot_bubbles(page).last).to_contain_text(dev.more.splitlines()[-1][:40])  # after "More on ...:"
    expect(error).to_have_count(0)


def test_a_stuck_rasa_is_shown_unhealthy_and_restarted_by_the_watchdog(dev: DevRun) -> None:
    """SIGSTOP: the process is there but answers nothing. make status says so; after 4 failed checks 5 s apart the
    watchdog kills it and supervisord starts it again."""
    name = f"rasa-{dev.profile.rasa_port}"
    dev.supervisor.wait_healthy([name], timeout=60)
    time.sleep(12)  # two watchdog rounds (every 5 s, slower under load): one of them sees it answering
    stuck = dev.supervisor.pid(name)
    os.kill(stuck, signal.SIGSTOP)
    try:
        fields = row(status(dev).stdout, name)
        assert fields.split()[1] in ("up", "starting") and "UNHEALTHY: no answer within" in fields, fields
        assert status(dev).returncode == 1
        deadline = time.monotonic() + 180  # 4 failed checks 5 s apart, then a model load, on a busy CI machine
        while dev.supervisor.pid(name) in (0, stuck) or not dev.supervisor.health(name).ok:
            assert time.monotonic() < deadline, dev.supervisor.process(name)
            time.sleep(0.5)
    finally:
        if alive(stuck):
            os.kill(stuck, signal.SIGCONT)
    assert dev.supervisor.counts()["watchdog"][name] == 1
    assert "by watchdog" in row(status(dev).stdout, name)
    sender = f"after-stuck-{uuid.uuid4().hex[:8]}"
    turn(dev.url, sender, FIRST)
    assert turn(dev.url, sender, MORE) == dev.more


def test_a_service_that_keeps_crashing_is_retried_with_backoff_then_marked_failed(tmp_path: Path) -> None:
    """A program that exits at once: supervisord retries it after 1, 2, 3 s ... and gives up (FATAL: "failed")."""
    supervisor = Supervisor(tmp_path / "supervisor", tmp_path / "logs")
    crash = Program("retention", [sys.executable, "-c", "import sys; sys.exit(3)"], tmp_path / "logs" / "crash.log",
                    Check("retention", [str(tmp_path / "never.json")]))
    supervisor.write([crash], foreground=False)
    supervisor.start()
    try:
        deadline = time.monotonic() + 120
        while supervisor.process("retention")["statename"] != "FATAL":
            assert time.monotonic() < deadline, supervisor.process("retention")
            time.sleep(0.5)
        rows = supervisor.rows()
        assert rows[0]["state"] == "failed" and rows[0]["health"].startswith("UNHEALTHY")
        spawned = [line for line in (tmp_path / "logs" / "supervisord.log").read_text().splitlines()
                   if "spawned: 'retention'" in line]
        assert len(spawned) == 6  # the first start and 5 retries (startretries in config/supervisor/supervision.yml)
        assert supervisor.restarts("retention") == 5
    finally:
        supervisor.shutdown()


def test_ctrl_c_stops_every_service(dev: DevRun) -> None:
    """Last: SIGINT to the terminal's process group, as Ctrl-C on make run sends it."""
    pids = [info["pid"] for info in dev.supervisor.info()] + [dev.supervisor.supervisord_pid()]
    ports = [dev.profile.action_port, dev.profile.rasa_port, dev.profile.web_port]
    os.killpg(dev.process.pid, signal.SIGINT)
    dev.process.wait(timeout=120)
    assert not [pid for pid in pids if pid and alive(pid)]
    for port in ports:
        with socket.socket() as sock:
            assert sock.connect_ex(("127.0.0.1", port)) != 0
    log = (dev.profile.var / "logs" / "supervisord.log").read_text()
    assert "received SIGINT" in log and "stopped: web" in log
