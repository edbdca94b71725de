"""The live hand-off end to end, in two Chromium contexts: a family in the widget and a staff member in the console,
on the real bot (action server, Rasa with its HTTP API and a token, web server) with staffed hours all week.

The family asks for a person and presses "Chat with our team"; the staff member sees it arrive in the live queue,
takes it over, and the family sees "<name> from <provider> has joined"; they write to each other; the family's
emergency still gets the emergency answer at once, and the staff member's page says so; the staff member hands back
and the assistant answers again. The tracker holds the pause and resume events and the staff messages with the staff
member's name. Saves the README's screenshots (live queue, the staff's chat, the family's widget).

The delay from the staff member pressing Send to the message in the family's widget is printed (pytest -s), never
asserted (speed belongs to benchmarks): both pages stamp Date.now() (one machine clock), the staff page on submit,
the family's on the message's arrival in the widget (a MutationObserver). The waits below are generous deadlines.
"""

from __future__ import annotations

import json
import re
import statistics
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, Page, expect

from bot.staff import alerts
from bot.staff.alert_worker import Worker
from bot.staff.db import engine, events
from tests import servers
from tests.staff_browser import browser, log_in, new_page  # noqa: F401
from tests.staff_fixtures import StaffSite, create_user
from tests.test_alerts_unit import settings as alert_settings

pytestmark = [pytest.mark.servers, pytest.mark.browser]
TOKEN = "live-chat-test-token-4b1d"
PROVIDER = "Example Recovery"
DEADLINE_MS = 30_000
STAFF_MESSAGES = [
    "Hi, I'm Dana from the admissions team. I'm here with you now.",
    "Is your son with you at the moment?",
    "We can talk about detox options whenever you're ready.",
]
EMERGENCY = "he took all his pills and now he won't wake up"
# Stamps each staff message when it appears in the widget (the widget lives in an open shadow root).
OBSERVE_WIDGET = """() => {
  window.__arrived = {};
  const log = document.getElementById("family-support-chat").shadowRoot.querySelector(".fc-log");
  new MutationObserver(() => {
    log.querySelectorAll(".fc-msg-staff .fc-bubble").forEach((bubble) => {
      if (!(bubble.textContent in window.__arrived)) window.__arrived[bubble.textContent] = Date.now();
    });
  }).observe(log, { childList: true, subtree: true });
}"""
STAMP_SEND = """() => {
  window.__sent = {};
  document.getElementById("live-send").addEventListener("submit", () => {
    window.__sent[document.getElementById("live-text").value.trim()] = Date.now();
  }, true);
}"""


@pytest.fixture(scope="module")
def live_site(workdir: Path) -> Iterator[StaffSite]:
    """The bot with live chat on (a provider file of its own: staffed all week, PROVIDER_CONFIG), Rasa's API on with
    a token the web server knows, and a responder account."""
    provider = workdir / "live-provider.yml"
    provider.write_text(
        f"name: {PROVIDER}\nphone: \"\"\nwebsite: https://example-recovery.example\nhours: \"\"\n"
        "live_chat:\n  timezone: UTC\n  wait_minutes: 5\n  hours:\n"
        + "".join(f"    {day}: \"00:00-24:00\"\n" for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"))
    )
    env = {"PROVIDER_CONFIG": str(provider)}
    port = servers.free_port()
    actions = servers.action_service(port, workdir / f"live-actions-{port}.log", env=servers.base_env(**env)).start()
    db = workdir / "live-conversations.db"
    rasa_port = servers.free_port()
    endpoints = workdir / f"live-endpoints-{rasa_port}.yml"
    endpoints.write_text(
        f"action_endpoint:\n  url: {actions.url}/webhook\n  enable_selective_domain: true\n"
        f"tracker_store:\n  type: bot.rasa.tracker_store.RedactingSQLTrackerStore\n  dialect: sqlite\n  db: {db}\n"
        "nlg:\n  type: bot.rasa.nlg.SafetyNoteNLG\n"
    )
    rasa = servers.rasa_service(rasa_port, endpoints, workdir / f"live-rasa-{rasa_port}.log", servers.MODEL,
                                "--interface", "127.0.0.1", "--enable-api", "--auth-token", TOKEN).start()
    database_url = f"sqlite:///{db}"
    web = servers.web_server(workdir, rasa.url, database_url, RASA_TOKEN=TOKEN, **env).start()
    site = StaffSite(web.url, db, database_url, {})
    try:
        result = create_user(database_url, "dana", "responder")
        assert result.returncode == 0, result.stderr
        site.users["dana"] = "responder"
        yield site
    finally:
        for service in (web, rasa, actions):
            service.stop()


def ask(page: Page, text: str) -> None:
    page.get_by_label("Type your question").fill(text)
    page.get_by_label("Type your question").press("Enter")
    expect(page.locator(".fc-panel")).to_have_attribute("aria-busy", "false", timeout=DEADLINE_MS)


def sender_of(page: Page) -> str:
    raw = page.evaluate("() => localStorage.getItem(Object.keys(localStorage).find(k => k.startsWith('family-chat:')))")
    return json.loads(raw)["sender"]


def stored(site: StaffSite, sender: str) -> list[tuple[str, dict]]:
    with engine(site.database_url).connect() as conn:
        rows = conn.execute(sa.select(events.c.type_name, events.c.data).where(events.c.sender_id == sender)
                            .order_by(events.c.id)).all()
    return [(type_name, json.loads(data)) for type_name, data in rows]


@pytest.mark.screenshots
def test_a_whole_hand_off_between_a_family_and_a_staff_member(live_site: StaffSite, browser: Browser) -> None:  # noqa: F811
    shots = servers.SCREENSHOTS
    shots.mkdir(parents=True, exist_ok=True)
    worker = Worker(engine(live_site.database_url), alert_settings())
    worker.watch_once()  # the alerts worker's place: the end of the events so far
    with new_page(browser) as family, new_page(browser) as staff:
        family.set_default_timeout(DEADLINE_MS)
        staff.set_default_timeout(DEADLINE_MS)
        # the staff member has the live queue open
        log_in(staff, live_site, "dana")
        staff.get_by_role("link", name=re.compile(r"^Live chat")).click()
        expect(staff.get_by_role("heading", name="Live chat")).to_be_visible()
        expect(staff.get_by_text("Nobody is waiting.")).to_be_visible()
        staff.evaluate("window.__sameDocument = true")

        # the family asks for a person and presses "Chat with our team"
        family.goto(live_site.url + "/")
        family.get_by_role("button", name="Questions? Chat with us").click()
        expect(family.locator(".fc-msg-bot .fc-bubble").first).to_contain_text("I'm an automated assistant")
        ask(family, "I want to talk to a real person please")
        expect(family.locator(".fc-msg-bot .fc-bubble").last).to_contain_text(
            f"Someone from {PROVIDER} is available to chat with you here now.")
        family.get_by_role("button", name="Chat with our team").click()
        expect(family.locator(".fc-msg-bot .fc-bubble").last).to_contain_text(f"we've let the team at {PROVIDER} know")
        sender = sender_of(family)

        # it appears in the staff member's queue without a reload; they take it over as "Dana"
        request = staff.locator(f'li[data-live-request="{sender}"]')
        expect(request).to_be_visible()
        expect(request.locator(".quote")).to_have_text("I want to talk to a real person please")
        expect(staff.locator("#nav-live .count")).to_have_text("1")
        assert staff.evaluate("window.__sameDocument === true")
        request.get_by_label("Name the family sees").fill("Dana")
        staff.screenshot(path=str(shots / "staff-live-queue.png"), full_page=True)
        request.get_by_role("button", name="Take over").click()
        expect(staff.locator("#live-state")).to_contain_text("Dana (dana) has this conversation")

        # the family sees who joined
        expect(family.locator(".fc-msg-notice")).to_have_text(f"Dana from {PROVIDER} has joined the chat.")
        expect(family.locator(".fc-subtitle")).to_have_text(f"Chatting with Dana · {PROVIDER}")

        # the staff member writes; each message shows in the widget (timed from Send to the widget)
        family.evaluate(OBSERVE_WIDGET)
        staff.evaluate(STAMP_SEND)
        box = staff.get_by_label(re.compile("Message to the family"))
        for text in STAFF_MESSAGES:
            box.fill(text)
            box.press("Enter")
            expect(family.locator(".fc-msg-staff .fc-bubble").last).to_have_text(text)
            expect(box).to_have_value("")
        expect(family.locator(".fc-msg-staff .fc-who").first).to_have_text("Dana")
        sent, arrived = staff.evaluate("window.__sent"), family.evaluate("window.__arrived")
        delays = [(arrived[text] - sent[text]) / 1000 for text in STAFF_MESSAGES]
        print(f"\nstaff Send -> family widget: {', '.join(f'{d:.2f}' for d in delays)} s "
              f"(median {statistics.median(delays):.2f} s, max {max(delays):.2f} s)")

        # the family answers; the staff member sees it; the assistant says nothing while a person has it
        answers_before = family.locator(".fc-msg-bot").count()
        ask(family, "thank you, he is asleep on the sofa")
        expect(staff.locator("#live-feed .msg.user").last).to_contain_text("thank you, he is asleep on the sofa")
        assert family.locator(".fc-msg-bot").count() == answers_before
        expect(family.locator(".fc-msg-error")).to_have_count(0)

        # an emergency still gets the emergency answer at once, and the staff member's page says so
        ask(family, EMERGENCY)
        expect(family.locator(".fc-msg-bot .fc-bubble").last).to_contain_text("Call 911 now")
        expect(staff.locator("#live-emergency")).to_be_visible()
        expect(staff.locator("#live-feed .msg.user.esc-emergency").last).to_contain_text(EMERGENCY)
        expect(staff.locator("#live-feed .msg.bot").last).to_contain_text("Call 911 now")  # what the family got
        assert staff.title().startswith("(!) Emergency")
        worker.watch_once()  # the alerts worker finds the emergency (the slot is set while the assistant is paused)
        assert [a for a in alerts.listing(engine(live_site.database_url))["open"]
                if a["sender_id"] == sender and a["level"] == "emergency"]
        box.fill("I can see that. Please call 911 now and stay with him; I'll stay here too.")
        box.press("Enter")
        expect(family.locator(".fc-msg-staff .fc-bubble").last).to_contain_text("Please call 911 now")
        staff.screenshot(path=str(shots / "staff-live-chat.png"), full_page=True)
        family.locator(".fc-log").evaluate("log => log.closest('.fc-scroll').scrollTop = 1e6")
        family.screenshot(path=str(shots / "widget-live.png"))

        # hand back: the family is told, and the assistant answers again
        staff.get_by_role("button", name="Hand back to the assistant").click()
        expect(staff.get_by_text("Handed back to the assistant.")).to_be_visible()
        expect(family.locator(".fc-msg-notice").last).to_have_text(
            "Dana has left the chat. You're talking to the automated assistant again.")
        expect(family.locator(".fc-subtitle")).to_have_text(f"{PROVIDER} · automated assistant")
        ask(family, "what happens during detox?")
        expect(family.locator(".fc-msg-bot .fc-bubble").last).to_contain_text("Detoxification is the first")

    # the tracker says who said what, in order
    kinds = [(kind, data.get("text"), (data.get("metadata") or {}).get("live_chat", {}).get("name"))
             for kind, data in stored(live_site, sender) if kind in ("pause", "resume", "bot")]
    pause, resume = kinds.index(("pause", None, None)), kinds.index(("resume", None, None))
    staff_said = [text for kind, text, name in kinds[pause:resume] if name == "Dana"]
    assert staff_said[:4] == [f"Dana from {PROVIDER} has joined the chat.", *STAFF_MESSAGES]
    assert any(kind == "bot" and text and text.startswith("Detoxification") for kind, text, _ in kinds[resume:])
