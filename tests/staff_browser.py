"""The staff console in Debian's Chromium (Playwright), shared by the browser tests on SQLite
(tests/test_staff_browser.py) and on the production profile's PostgreSQL behind nginx (tests/test_prod.py).

Test modules import the fixtures they use (`from tests.staff_browser import browser, page  # noqa: F401`). The
browser's event loop runs in the test's thread while it is open, so a module that also runs asyncio code between
browser tests (tests/test_prod.py) opens one for the test alone: `with chromium_page() as page:`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from rasa.shared.nlu.training_data.loading import load_data

from tests.staff_fixtures import PASSWORD, StaffSite

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@contextmanager
def new_page(browser: Browser) -> Iterator[Page]:
    """A page in a fresh context; no script error may happen on it."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, errors


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    with new_page(browser) as opened:
        yield opened


@contextmanager
def chromium_page() -> Iterator[Page]:
    """A browser and a page of its own, closed afterwards (with its event loop)."""
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            with new_page(chromium) as page:
                yield page
        finally:
            chromium.close()


def log_in(page: Page, site: StaffSite, username: str = "reviewer") -> None:
    page.goto(f"{site.url}/staff/")
    expect(page).to_have_url(f"{site.url}/staff/login?next=/staff/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Conversations")).to_be_visible()


def review_flag_and_export(page: Page, site: StaffSite, downloads: Path, screenshots: Path | None = None) -> None:
    """Log in, list, filter by escalation and by the safety net's decisions, open a transcript, flag and correct a
    message, tag it, mark it reviewed, export the conversations (JSON) and the flagged messages (NLU YAML, loaded
    with Rasa's reader). `screenshots`: where to save the README's pictures of the list, a transcript and a safety
    net decision."""
    log_in(page, site)
    senders = site.senders
    for sender in senders.values():
        expect(page.locator(f'a[href*="/staff/conversations/{sender}"]')).to_have_count(1)
    if screenshots:
        page.screenshot(path=str(screenshots / "staff-list.png"), full_page=True)

    # filter by escalation
    page.get_by_label("Escalation").select_option("emergency")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"escalation=emergency"))
    expect(page.locator(f'a[href*="{senders["emergency"]}"]')).to_have_count(1)
    expect(page.locator(f'a[href*="{senders["information"]}"]')).to_have_count(0)
    for badge in page.locator("table.list tbody .badge").all():
        expect(badge).to_have_text("Emergency")

    # open a transcript: the safety net's decision and the escalation are shown
    page.locator(f'a[href*="{senders["emergency"]}"]').click()
    expect(page.get_by_text("Escalation recorded: emergency")).to_be_visible()
    emergency = page.locator(".msg.user.esc-emergency")
    expect(emergency.locator(".intent")).to_have_text("emergency_medical")
    expect(emergency.locator(".safety-outcome")).to_have_text("Happening now")
    if screenshots:
        emergency.screenshot(path=str(screenshots / "staff-safety.png"))
    page.get_by_role("link", name="← Conversations").click()
    expect(page).to_have_url(re.compile(r"escalation=emergency"))  # back to the filtered list

    # filter by the safety net's decisions
    page.get_by_role("link", name="Clear").click()
    page.get_by_label("Safety net").select_option("any")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"safety=any"))
    expect(page.locator(f'a[href*="{senders["emergency"]}"]')).to_have_count(1)
    expect(page.locator(f'a[href*="{senders["information"]}"]')).to_have_count(0)

    # flag and correct a misunderstood message (the redacted contact details)
    page.get_by_role("link", name="Clear").click()
    page.locator(f'a[href*="{senders["personal_data"]}"]').click()
    message = page.locator(".msg.user", has_text="[address]")
    expect(message).to_contain_text("text me at [phone]")
    message.get_by_text("Flag as misunderstood").click()
    message.get_by_label("Intent it should have had").select_option("request_human")
    message.get_by_role("button", name="Save flag").click()
    flagged = page.locator(".msg.user.flagged", has_text="[address]")
    expect(flagged.locator(".badge.flag")).to_have_text("Flagged: should be request_human")
    page.get_by_placeholder("add a tag").fill("contact-details")
    page.get_by_role("button", name="Add", exact=True).click()
    page.get_by_role("button", name="Mark as reviewed").click()
    expect(page.get_by_text("Marked as reviewed.")).to_be_visible()
    if screenshots:
        page.screenshot(path=str(screenshots / "staff-transcript.png"), full_page=True)

    # export the conversations with their messages
    page.get_by_role("link", name="← Conversations").click()
    with page.expect_download() as download:
        page.get_by_role("link", name="JSON", exact=True).click()
    path = downloads / "conversations.json"
    download.value.save_as(path)
    exported = {c["sender_id"]: c for c in json.loads(path.read_text())}
    assert set(senders.values()) <= set(exported)
    personal = exported[senders["personal_data"]]
    assert personal["tags"] == ["contact-details"]
    assert any(m.get("flagged_as") == "request_human" for m in personal["messages"])

    # export the flagged messages as NLU data and load them with Rasa's own reader
    with page.expect_download() as download:
        page.get_by_role("link", name="NLU training data (YAML)").click()
    path = downloads / "flagged_nlu.yml"
    download.value.save_as(path)
    assert 'version: "3.1"' in path.read_text()
    examples = {(m.get("intent"), m.get("text")) for m in load_data(str(path)).intent_examples}
    assert any(intent == "request_human" and "[address]" in text for intent, text in examples), examples

    # the tag and the review state filter the list
    page.goto(f"{site.url}/staff/?tag=contact-details&reviewed=yes")
    expect(page.locator("table.list tbody tr")).to_have_count(1)
