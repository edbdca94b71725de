"""The staff console in Debian's Chromium (Playwright) on the real bot's SQLite store: log in, list, filter by
escalation, open a transcript, flag and correct a message, export (JSON, and the NLU snippet loaded with Rasa's
reader). Saves the README screenshots in build/screenshots (`make screenshots` copies them to docs/).
tests/test_prod.py runs the same on PostgreSQL behind nginx."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.servers import SCREENSHOTS
from tests.staff_browser import browser, log_in, page, review_flag_and_export  # noqa: F401
from tests.staff_fixtures import StaffSite, staff_conversations, staff_rasa, staff_web  # noqa: F401

pytestmark = [pytest.mark.servers, pytest.mark.browser]


def test_review_flag_and_export(page: Page, staff_web: StaffSite, tmp_path: Path) -> None:  # noqa: F811
    review_flag_and_export(page, staff_web, tmp_path, screenshots=SCREENSHOTS)


def test_dashboard_draws_its_charts(page: Page, staff_web: StaffSite) -> None:  # noqa: F811
    log_in(page, staff_web)
    page.get_by_role("link", name="Dashboard").click()
    expect(page.locator("canvas")).to_have_count(4)
    page.wait_for_function("() => window.Chart && Object.keys(Chart.instances).length === 4")
