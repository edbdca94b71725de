"""Helpers for the kill tests of both profiles (tests/test_supervision.py, tests/test_prod.py): kill -9 a supervised
service and wait for it to answer again; a family's conversation across the kill; the staff console's list."""

from __future__ import annotations

import os
import re
import signal
import time
import uuid
from dataclasses import dataclass
from typing import Dict, List

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from bot.supervision import Supervisor
from tests import servers

BACK_WITHIN = 30  # seconds: the bound for a killed service to answer its health check again
FIRST = "what does withdrawal feel like"
MORE = "tell me more"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Comeback:
    old_pid: int
    new_pid: int
    seconds: float


def kill_and_wait(supervisor: Supervisor, name: str, within: float = BACK_WITHIN) -> Comeback:
    """SIGKILL the service; it must run again under a new pid, counted as a restart, and pass its health check."""
    old, restarts = supervisor.pid(name), supervisor.restarts(name)
    assert old > 0, supervisor.process(name)
    start = time.monotonic()
    os.kill(old, signal.SIGKILL)
    while True:
        info = supervisor.process(name)
        if info["pid"] not in (0, old) and supervisor.health(name).ok and supervisor.restarts(name) > restarts:
            break
        elapsed = time.monotonic() - start
        assert elapsed < within, f"{name} not back within {within} s: {info['statename']}, {supervisor.health(name)}"
        time.sleep(0.2)
    assert supervisor.restarts(name) == restarts + 1
    return Comeback(old, info["pid"], time.monotonic() - start)


def turn(url: str, sender: str, text: str) -> str:
    return servers.texts(servers.say(url, sender, text, timeout=60))


def expected_more(url: str) -> str:
    """What "tell me more" answers after FIRST: the rest of the withdrawal paragraphs, which only a conversation
    with its history gets (without it the bot asks which topic)."""
    sender = f"reference-{uuid.uuid4().hex[:8]}"
    turn(url, sender, FIRST)
    more = turn(url, sender, MORE)
    assert more and more != turn(url, f"fresh-{uuid.uuid4().hex[:8]}", MORE)
    return more


class StaffConsole:
    """A logged-in staff session (the account is made with python -m bot.staff.users)."""

    def __init__(self, url: str, username: str, password: str) -> None:
        self.url, self.username, self.password = url, username, password
        self.session = self.browser()

    @staticmethod
    def browser() -> requests.Session:
        """Like a browser, a page load (GET) is sent again once when a kept-alive connection turns out to be dead
        (its server process was killed)."""
        session = requests.Session()
        session.mount("http://", HTTPAdapter(max_retries=Retry(total=1, connect=1, read=1, status=0,
                                                               allowed_methods={"GET"})))
        return session

    def login(self) -> None:
        self.session = self.browser()
        token = TOKEN.search(self.session.get(f"{self.url}/staff/login", timeout=30).text).group(1)
        answer = self.session.post(f"{self.url}/staff/login", timeout=30, allow_redirects=False,
                                   data={"username": self.username, "password": self.password, "csrf_token": token})
        assert answer.status_code == 302, answer.text

    def listed(self) -> List[str]:
        """The conversations on the first page of the list (newest first), logging in again if the session ended."""
        answer = self.session.get(f"{self.url}/staff/", timeout=30, allow_redirects=False)
        if answer.status_code == 302:
            self.login()
            answer = self.session.get(f"{self.url}/staff/", timeout=30, allow_redirects=False)
        assert answer.status_code == 200, answer.status_code
        return re.findall(r'/staff/conversations/([\w-]+)\?', answer.text)

    def transcript(self, sender: str) -> str:
        answer = self.session.get(f"{self.url}/staff/conversations/{sender}", timeout=30)
        assert answer.status_code == 200, answer.status_code
        return answer.text


def conversation_across_kill(
    supervisor: Supervisor, name: str, chat_url: str, more: str, console: StaffConsole
) -> Dict[str, object]:
    """A family asks, the service is killed, the family goes on: the answer needs the history, every message is
    there, and the staff console lists the conversation."""
    sender = f"kill-{name}-{uuid.uuid4().hex[:8]}"
    assert "withdrawal" in turn(chat_url, sender, FIRST).lower()
    comeback = kill_and_wait(supervisor, name)
    assert turn(chat_url, sender, MORE) == more
    assert sender in console.listed()
    transcript = console.transcript(sender)
    assert transcript.count(FIRST) == 1 and transcript.count(MORE) == 1  # every message, once
    return {"sender": sender, "seconds": comeback.seconds}
