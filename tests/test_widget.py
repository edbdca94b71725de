"""The family chat widget in a real browser (Debian's Chromium driven by Playwright), against the real web server
and the real Rasa server; plus the proxy's HTTP behaviour (body checks, CORS, security headers).

The README's screenshots widget-desktop.png and widget-phone.png are saved in build/screenshots here (`make
screenshots` copies them to docs/).
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import (
    Browser,
    Locator,
    Page,
    Playwright,
    Route,
    expect,
    sync_playwright,
)
from playwright.sync_api import Error as PlaywrightError

from bot.core.settings import web_settings
from tests import servers

pytestmark = pytest.mark.servers  # the tests using the `browser` fixture are marked `browser` (conftest)

ROOT = servers.ROOT
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ANSWER_TIMEOUT_MS = 30_000
WEBHOOK = "/webhooks/rest/webhook"
HELPLINE = "1-800-662-4357"

# ---------------------------------------------------------------------------------------------------- fixtures


class ProviderSite:
    """A provider's own website on another origin (a real local HTTP server): its pages by path."""

    def __init__(self) -> None:
        self.pages: dict[str, str] = {}
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the http.server API)
                body = site.pages.get(self.path, "").encode()
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://localhost:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def provider_site() -> Iterator[ProviderSite]:
    site = ProviderSite()
    yield site
    site.server.shutdown()


@pytest.fixture(scope="module")
def embed_origin(provider_site: ProviderSite) -> str:
    """The provider's origin, allowed to embed the widget (ALLOWED_ORIGINS)."""
    return provider_site.origin


@pytest.fixture(scope="module")
def web(rasa_server: servers.Service, workdir: Path, embed_origin: str) -> Iterator[servers.Service]:
    """The web server in front of the real Rasa server."""
    service = servers.web_server(
        workdir, rasa_server.url, "sqlite:///" + str(rasa_server.db_path), ALLOWED_ORIGINS=embed_origin
    ).start()
    yield service
    service.stop()


@pytest.fixture(scope="module")
def dead_web(workdir: Path) -> Iterator[servers.Service]:
    """A web server whose Rasa is down (nothing listens at RASA_URL)."""
    service = servers.web_server(
        workdir, f"http://127.0.0.1:{servers.free_port()}", "sqlite:///" + str(workdir / "no-rasa.db")
    ).start()
    yield service
    service.stop()


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


PageFactory = Callable[..., Page]


@pytest.fixture
def new_page(browser: Browser) -> Iterator[PageFactory]:
    """Pages in fresh browser contexts (empty localStorage); any script error fails the test."""
    contexts = []
    errors: list[str] = []

    def make(**context_options: Any) -> Page:
        context_options.setdefault("viewport", {"width": 1280, "height": 800})
        context = browser.new_context(**context_options)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(ANSWER_TIMEOUT_MS)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on(
            "console",
            lambda msg: errors.append(msg.text) if "Content Security Policy" in msg.text else None,
        )
        return page

    yield make
    for context in contexts:
        context.close()
    assert not errors, errors


@pytest.fixture
def page(new_page: PageFactory) -> Page:
    return new_page()


# ---------------------------------------------------------------------------------------------------- helpers


def bot_bubbles(page: Page) -> Locator:
    return page.locator(".fc-msg-bot .fc-bubble")


def user_bubbles(page: Page) -> Locator:
    return page.locator(".fc-msg-user .fc-bubble")


def wait_until_answered(page: Page) -> None:
    expect(page.locator(".fc-panel")).to_have_attribute("aria-busy", "false", timeout=ANSWER_TIMEOUT_MS)


def open_chat(page: Page, url: str) -> None:
    """The demo page with the chat open and the greeting shown."""
    page.goto(url + "/")
    page.get_by_role("button", name="Questions? Chat with us").click()
    expect(bot_bubbles(page).first).to_contain_text("I'm an automated assistant")
    wait_until_answered(page)


def ask(page: Page, text: str) -> None:
    page.get_by_label("Type your question").fill(text)
    page.get_by_label("Type your question").press("Enter")
    wait_until_answered(page)


def stored_state(page: Page) -> dict[str, Any]:
    raw = page.evaluate(
        "() => { const key = Object.keys(localStorage).find(k => k.startsWith('family-chat:'));"
        " return key ? localStorage.getItem(key) : 'null'; }"
    )
    return json.loads(raw) or {}


def no_horizontal_scroll(page: Page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")


# ---------------------------------------------------------------------------------------------------- the chat


def test_greeting_notice_and_topic_buttons(page: Page, web: servers.Service) -> None:
    open_chat(page, web.url)
    notice = page.locator(".fc-notice")
    expect(notice).to_contain_text("automated assistant")
    expect(notice).to_contain_text("not medical advice")
    expect(notice).to_contain_text("What is stored")
    expect(notice).to_contain_text("In an emergency, call 911")
    expect(page.locator('.fc-notice a[href="tel:911"]')).to_be_visible()
    expect(page.get_by_role("log", name="Conversation")).to_have_attribute("aria-live", "polite")
    expect(page.locator(".fc-replies").get_by_role("button", name="Withdrawal")).to_be_visible()
    expect(user_bubbles(page)).to_have_count(0)  # "/greet" is not shown as the family's message


def test_typed_question_gets_its_scripted_answer_and_is_not_logged(page: Page, web: servers.Service) -> None:
    open_chat(page, web.url)
    ask(page, "what is dbt?")
    expect(user_bubbles(page).last).to_have_text("what is dbt?")
    expect(bot_bubbles(page).last).to_contain_text("Dialectical Behavior Therapy")
    expect(page.locator(".fc-replies").get_by_role("button", name="Family therapy")).to_be_visible()
    assert "what is dbt" not in web.log.read_text(errors="replace").lower()


def test_quick_reply_sends_its_payload(page: Page, web: servers.Service) -> None:
    open_chat(page, web.url)
    page.locator(".fc-replies").get_by_role("button", name="Withdrawal").click()
    wait_until_answered(page)
    expect(user_bubbles(page).last).to_have_text("Withdrawal")
    expect(bot_bubbles(page).last).to_contain_text("severe withdrawal reactions")
    expect(page.locator(".fc-replies")).to_have_count(1)  # only the latest answer's replies stay
    page.locator(".fc-replies").get_by_role("button", name="What is tapering?").click()
    wait_until_answered(page)
    expect(bot_bubbles(page).filter(has_text="gradually taper the benzodiazepine dosage")).to_have_count(1)
    expect(page.locator(".fc-log > :last-child")).to_have_class("fc-replies")  # after the whole answer


def test_emergency_message_gets_the_911_answer(page: Page, web: servers.Service) -> None:
    open_chat(page, web.url)
    before = bot_bubbles(page).count()
    ask(page, "he took all his pills and won't wake up")
    first_answer = bot_bubbles(page).nth(before)
    expect(first_answer).to_have_text(re.compile(r"^Call 911 now"))
    expect(first_answer.locator('a[href="tel:911"]').first).to_be_visible()


def test_links_in_answers_are_clickable(page: Page, web: servers.Service) -> None:
    open_chat(page, web.url)
    ask(page, "are you a robot?")
    answer = bot_bubbles(page).last
    expect(answer).to_contain_text(HELPLINE)
    expect(answer.locator('a[href="tel:+1-800-662-4357"]')).to_have_text(HELPLINE)


def test_get_help_now_works_without_any_server(page: Page, dead_web: servers.Service) -> None:
    page.goto(dead_web.url + "/")
    page.context.set_offline(True)
    page.locator(".fc-dock").get_by_role("button", name="Get help now").click()
    help_region = page.get_by_role("region", name="Get help now")
    expect(help_region).to_be_visible()
    for href in ("tel:911", "tel:988", "sms:988", "tel:+1-800-662-4357"):
        expect(help_region.locator(f'a[href="{href}"]')).to_be_visible()
    expect(help_region).to_contain_text(HELPLINE)

    # Back in the chat, the greeting fails visibly, with a retry: offline, then with Rasa down.
    page.get_by_role("button", name="Back to the chat").click()
    error = page.locator(".fc-msg-error")
    expect(error).to_contain_text("can't reach the assistant")
    page.context.set_offline(False)
    error.get_by_role("button", name="Retry").click()
    expect(error).to_contain_text("National Helpline")
    expect(error.get_by_role("button", name="Retry")).to_be_visible()
    expect(page.locator(".fc-typing")).to_be_hidden()


def test_reload_keeps_the_conversation_and_start_over_clears_it(page: Page, web: servers.Service) -> None:
    open_chat(page, web.url)
    ask(page, "what is dbt?")
    first_sender = stored_state(page)["sender"]
    page.reload()
    expect(user_bubbles(page)).to_have_text(["what is dbt?"])
    expect(bot_bubbles(page).last).to_contain_text("Dialectical Behavior Therapy")
    expect(page.locator(".fc-replies").get_by_role("button", name="Family therapy")).to_be_visible()
    assert stored_state(page)["sender"] == first_sender

    page.get_by_role("button", name="Start over").click()
    expect(bot_bubbles(page).first).to_contain_text("I'm an automated assistant")
    wait_until_answered(page)
    expect(user_bubbles(page)).to_have_count(0)
    expect(page.get_by_text("Dialectical Behavior Therapy")).to_have_count(0)
    state = stored_state(page)
    assert state["sender"] != first_sender
    assert all(entry["role"] == "bot" for entry in state["transcript"])


def test_phone_viewport_has_no_horizontal_scroll_and_the_panel_fills_it(
    new_page: PageFactory, web: servers.Service
) -> None:
    page = new_page(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
    page.goto(web.url + "/")
    assert no_horizontal_scroll(page)
    page.get_by_role("button", name="Questions? Chat with us").click()
    wait_until_answered(page)
    ask(page, "what are the signs of addiction?")
    assert no_horizontal_scroll(page)
    box = page.locator(".fc-panel").bounding_box()
    assert box is not None and (box["x"], box["y"], box["width"], box["height"]) == (0, 0, 375, 740)


def test_html_typed_by_the_user_is_shown_as_text(page: Page, web: servers.Service) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    open_chat(page, web.url)
    payload = "<img src=x onerror=alert(1)>"
    ask(page, payload)
    expect(user_bubbles(page).last).to_have_text(payload)
    page.wait_for_timeout(500)
    assert dialogs == []
    assert page.locator(".fc-log img").count() == 0


def test_server_down_shows_an_error_and_recovers_on_retry(page: Page, web: servers.Service) -> None:
    attempts: list[str] = []

    def first_fails(route: Route) -> None:
        attempts.append(route.request.post_data or "")
        if len(attempts) == 1:
            route.abort("connectionrefused")
        else:
            route.continue_()

    page.route("**" + WEBHOOK, first_fails)
    page.goto(web.url + "/")
    page.get_by_role("button", name="Questions? Chat with us").click()
    error = page.locator(".fc-msg-error")
    expect(error).to_contain_text("can't reach the assistant")
    error.get_by_role("button", name="Retry").click()
    expect(bot_bubbles(page).first).to_contain_text("I'm an automated assistant")
    expect(error).to_have_count(0)
    assert len(attempts) == 2 and attempts[0] == attempts[1]  # the same message, resent


def test_a_rate_limited_message_shows_the_calm_reply_and_the_help_panel(page: Page, web: servers.Service) -> None:
    """A 429 from the rate limit (the web server's or nginx's: the same body, config/web.yml rate_limited_reply)."""
    open_chat(page, web.url)
    greeting = bot_bubbles(page).count()
    reply = web_settings()["rate_limited_reply"]

    def limited(route: Route) -> None:
        route.fulfill(status=429, content_type="application/json", headers={"Retry-After": "1"},
                      body=json.dumps([{"recipient_id": "", "text": reply}]))

    page.route("**" + WEBHOOK, limited)
    ask(page, "what is a taper")
    help_region = page.get_by_role("region", name="Get help now")
    expect(help_region).to_be_visible()
    for href in ("tel:911", "tel:988"):
        expect(help_region.locator(f'a[href="{href}"]')).to_be_visible()
    page.get_by_role("button", name="Back to the chat").click()
    error = page.locator(".fc-msg-error")
    expect(error).to_contain_text("call 911")
    expect(error).to_contain_text("988")
    expect(bot_bubbles(page)).to_have_count(greeting)  # the refusal is not shown or kept as an answer

    page.unroute("**" + WEBHOOK)
    error.get_by_role("button", name="Retry").click()
    wait_until_answered(page)
    expect(page.locator(".fc-msg-error")).to_have_count(0)
    expect(bot_bubbles(page)).not_to_have_count(greeting)


def test_embedded_on_another_site_with_a_slow_server(
    page: Page, web: servers.Service, provider_site: ProviderSite
) -> None:
    """A provider's page on another origin: CORS lets the widget talk to the server; its CSS does not leak in;
    a request that takes longer than the widget's timeout shows an error and a retry."""
    host_page = (
        "<!doctype html><html lang=en><head><meta name=viewport content='width=device-width'>"
        "<title>Provider</title><style>button { background: rgb(255, 105, 180) !important; }"
        " div { display: block !important; }</style></head><body><h1>Example provider</h1>"
        f'<script src="{web.url}/widget.js" data-server="{web.url}" data-title="Talk to us"'
        ' data-provider="Example Provider" data-timeout="1500" defer></script></body></html>'
    )
    provider_site.pages["/provider.html"] = host_page
    unanswered: list[Route] = []

    def first_hangs(route: Route) -> None:
        if route.request.method == "POST" and not unanswered:
            unanswered.append(route)  # left without an answer until the end of the test
        else:
            route.continue_()

    page.route("**" + WEBHOOK, first_hangs)
    page.goto(provider_site.origin + "/provider.html")
    launcher = page.get_by_role("button", name="Questions? Chat with us")
    assert launcher.evaluate("el => getComputedStyle(el).backgroundColor") != "rgb(255, 105, 180)"
    launcher.click()
    expect(page.get_by_role("heading", name="Talk to us")).to_be_visible()
    expect(page.locator(".fc-subtitle")).to_contain_text("Example Provider")
    error = page.locator(".fc-msg-error")
    expect(error).to_contain_text("taking too long")
    error.get_by_role("button", name="Retry").click()
    expect(bot_bubbles(page).first).to_contain_text("I'm an automated assistant")
    with contextlib.suppress(PlaywrightError):  # the browser has given up on it already
        unanswered[0].abort()


def test_keyboard_only(page: Page, web: servers.Service) -> None:
    page.goto(web.url + "/")
    launcher = page.get_by_role("button", name="Questions? Chat with us")
    for _ in range(30):
        page.keyboard.press("Tab")
        if launcher.evaluate("el => el.getRootNode().activeElement === el"):
            break
    else:
        pytest.fail("the launcher cannot be reached with Tab")
    assert launcher.evaluate("el => getComputedStyle(el).outlineStyle") == "solid"  # visible focus
    page.keyboard.press("Enter")
    wait_until_answered(page)
    expect(page.get_by_label("Type your question")).to_be_focused()
    page.keyboard.type("what is cbt?")
    page.keyboard.press("Enter")
    wait_until_answered(page)
    expect(bot_bubbles(page).last).to_contain_text("Cognitive Behavioral Therapy")
    page.keyboard.press("Escape")
    expect(page.locator(".fc-panel")).to_be_hidden()
    expect(launcher).to_be_focused()


def run_axe(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the whole page (the widget's shadow DOM included)."""
    page.add_script_tag(path=str(AXE))
    results = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]]}
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_accessibility_with_axe(new_page: PageFactory, web: servers.Service) -> None:
    page = new_page(bypass_csp=True)  # the test injects axe-core; families never get it
    open_chat(page, web.url)
    ask(page, "what is dbt?")
    assert run_axe(page) == []
    chat_panel = page.locator(".fc-panel")
    chat_panel.get_by_role("button", name="Get help now").click()
    assert run_axe(page) == []
    chat_panel.get_by_role("button", name="Back to the chat").click()
    chat_panel.get_by_role("button", name="Close chat").click()
    assert run_axe(page) == []


@pytest.mark.screenshots
def test_screenshots(new_page: PageFactory, web: servers.Service) -> None:
    """widget-desktop.png and widget-phone.png: a greeting, a question and an answer with buttons."""
    servers.SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for name, options in (
        ("desktop", {"viewport": {"width": 1280, "height": 800}}),
        ("phone", {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}),
    ):
        page = new_page(**options)
        open_chat(page, web.url)
        ask(page, "My son takes Xanax every day. What is DBT?")
        expect(page.locator(".fc-replies")).to_have_count(1)
        page.evaluate("() => document.activeElement && document.activeElement.blur()")
        page.screenshot(path=str(servers.SCREENSHOTS / f"widget-{name}.png"))


# ---------------------------------------------------------------------------------------------------- the proxy


def post(url: str, **kwargs: Any) -> requests.Response:
    return requests.post(url + WEBHOOK, timeout=30, **kwargs)


def test_proxy_forwards_to_rasa(web: servers.Service, sender: str) -> None:
    answer = post(web.url, json={"sender": sender, "message": "what is dbt?"})
    assert answer.status_code == 200
    assert "Dialectical Behavior Therapy" in servers.texts(answer.json())


def test_proxy_refuses_bad_bodies(web: servers.Service, sender: str) -> None:
    assert post(web.url, data="hello", headers={"Content-Type": "text/plain"}).status_code == 415
    assert post(web.url, data="{not json", headers={"Content-Type": "application/json"}).status_code == 400
    assert post(web.url, json=["a list"]).status_code == 400
    oversized = post(web.url, json={"sender": sender, "message": "x" * 70_000})
    assert oversized.status_code == 413


def test_proxy_answers_calmly_when_rasa_is_down(dead_web: servers.Service, sender: str) -> None:
    answer = post(dead_web.url, json={"sender": sender, "message": "hello"})
    assert answer.status_code == 503
    assert answer.json() == [
        {
            "recipient_id": sender,
            "text": "Sorry, I can't reach the assistant right now. Please try again. If you need help now, call the "
            "SAMHSA National Helpline, free and 24/7: 1-800-662-4357. In an emergency, call 911.",
        }
    ]


def test_cors_only_for_allowed_origins(web: servers.Service, embed_origin: str, sender: str) -> None:
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    allowed = requests.options(web.url + WEBHOOK, headers={"Origin": embed_origin, **preflight}, timeout=10)
    assert allowed.status_code == 204
    assert allowed.headers["Access-Control-Allow-Origin"] == embed_origin
    assert "POST" in allowed.headers["Access-Control-Allow-Methods"]
    assert "content-type" in allowed.headers["Access-Control-Allow-Headers"].lower()

    other = requests.options(web.url + WEBHOOK, headers={"Origin": "https://evil.example", **preflight}, timeout=10)
    assert other.status_code == 403
    assert "Access-Control-Allow-Origin" not in other.headers

    body = {"sender": sender, "message": "hello"}
    assert post(web.url, json=body, headers={"Origin": embed_origin}).headers["Access-Control-Allow-Origin"] == (
        embed_origin
    )
    assert "Access-Control-Allow-Origin" not in post(web.url, json=body, headers={"Origin": "https://evil.example"}).headers


def test_security_headers(web: servers.Service) -> None:
    page = requests.get(web.url + "/", timeout=10)
    csp = page.headers["Content-Security-Policy"]
    script_src = next(part for part in csp.split(";") if part.strip().startswith("script-src"))
    assert "'self'" in script_src and "unsafe" not in script_src and "*" not in script_src
    assert "frame-ancestors" in csp
    for response in (page, requests.get(web.url + "/widget.js", timeout=10)):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "no-referrer"
    assert 'name="viewport"' in page.text
    assert "axe" not in page.text  # axe-core is for the tests only
