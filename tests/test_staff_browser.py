"""The staff console in Debian's Chromium (Playwright): log in, list, filter by escalation, open a transcript, flag
and correct a message, export the NLU snippet and load it with Rasa's reader. Saves the README screenshots in
build/screenshots (`make screenshots` copies them to docs/)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from rasa.shared.nlu.training_data.loading import load_data

from tests.servers import SCREENSHOTS
from tests.staff_fixtures import PASSWORD, StaffSite, staff_conversations, staff_web  # noqa: F401

pytestmark = [pytest.mark.servers, pytest.mark.browser]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, errors


def log_in(page: Page, site: StaffSite, username: str = "reviewer") -> None:
    page.goto(f"{site.url}/staff/")
    expect(page).to_have_url(f"{site.url}/staff/login?next=/staff/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Conversations")).to_be_visible()


@pytest.mark.screenshots
def test_review_flag_and_export(page: Page, staff_web: StaffSite, tmp_path: Path) -> None:  # noqa: F811
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    log_in(page, staff_web)
    senders = staff_web.senders
    for sender in senders.values():
        expect(page.locator(f'a[href*="/staff/conversations/{sender}"]')).to_have_count(1)
    page.screenshot(path=str(SCREENSHOTS / "staff-list.png"), full_page=True)

    # filter by escalation
    page.get_by_label("Escalation").select_option("emergency")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"escalation=emergency"))
    expect(page.locator(f'a[href*="{senders["emergency"]}"]')).to_have_count(1)
    expect(page.locator(f'a[href*="{senders["information"]}"]')).to_have_count(0)
    for badge in page.locator("table.list tbody .badge").all():
        expect(badge).to_have_text("Emergency")

    # open a transcript: the safety net's override and the escalation are shown
    page.locator(f'a[href*="{senders["emergency"]}"]').click()
    expect(page.get_by_text("Escalation recorded: emergency")).to_be_visible()
    expect(page.locator(".msg.user.esc-emergency .intent")).to_have_text("emergency_medical")
    page.get_by_role("link", name="← Conversations").click()
    expect(page).to_have_url(re.compile(r"escalation=emergency"))  # back to the filtered list

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
    page.screenshot(path=str(SCREENSHOTS / "staff-transcript.png"), full_page=True)

    # export the flagged messages as NLU data and load them with Rasa's own reader
    page.get_by_role("link", name="← Conversations").click()
    with page.expect_download() as download:
        page.get_by_role("link", name="NLU training data (YAML)").click()
    path = tmp_path / "flagged_nlu.yml"
    download.value.save_as(path)
    assert 'version: "3.1"' in path.read_text()
    examples = {(m.get("intent"), m.get("text")) for m in load_data(str(path)).intent_examples}
    assert any(intent == "request_human" and "[address]" in text for intent, text in examples), examples

    # the tag and the review state filter the list
    page.goto(f"{staff_web.url}/staff/?tag=contact-details&reviewed=yes")
    expect(page.locator("table.list tbody tr")).to_have_count(1)


def test_dashboard_draws_its_charts(page: Page, staff_web: StaffSite) -> None:  # noqa: F811
    log_in(page, staff_web)
    page.get_by_role("link", name="Dashboard").click()
    expect(page.locator("canvas")).to_have_count(4)
    page.wait_for_function("() => window.Chart && Object.keys(Chart.instances).length === 4")
