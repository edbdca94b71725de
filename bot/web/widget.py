"""The family chat: the demo page, the embeddable widget's files and a same-origin proxy to Rasa's REST channel.

- ``GET /``: a provider-style demo page with the widget.
- ``GET /widget.js`` and ``/static/widget/...``: the widget (vanilla JavaScript and CSS, no build step).
- ``POST /webhooks/rest/webhook``: forwards the JSON body to ``rasa_url`` (so the browser talks to one origin, and
  any Rasa server behind a load balancer can answer), with CORS only for the configured ``allowed_origins``, and a
  per-client rate limit (bot.web.ratelimit; config/web.yml ``rate_limit_*``): a refused message gets 429 with the
  calm reply, in Rasa's answer format like the other calm replies, and the widget opens its help panel.

Message text is never logged.
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

import requests
from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    jsonify,
    render_template,
    request,
    send_from_directory,
)

from bot.core.provider import provider
from bot.web import live
from bot.web.ratelimit import TokenBuckets

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
RASA_TIMEOUT_SECONDS = 30
UNAVAILABLE = (
    "Sorry, I can't reach the assistant right now. Please try again. If you need help now, call the SAMHSA "
    "National Helpline, free and 24/7: 1-800-662-4357. In an emergency, call 911."
)
WEBHOOK = "/webhooks/rest/webhook"
# The demo page runs only its own files: no inline script or style, no third-party origin.
DEMO_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'"
)
CORS_HEADERS = {
    "Access-Control-Allow-Methods": "POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type",
    "Access-Control-Max-Age": "600",
}

bp = Blueprint(
    "widget",
    __name__,
    static_folder="static/widget",
    static_url_path="/static/widget",
    template_folder="templates",
)


def _settings() -> dict[str, Any]:
    return current_app.config["SETTINGS"]


_local = threading.local()


def _rasa_session() -> requests.Session:
    """One pooled HTTP session per server thread: keep-alive connections to Rasa instead of one per message."""
    if not hasattr(_local, "session"):
        _local.session = requests.Session()
    return _local.session


def _calm_reply(body: dict[str, Any], status: int, text: str = UNAVAILABLE) -> tuple[Response, int]:
    """What the widget shows (with a retry) when the assistant cannot answer: Rasa's own answer format."""
    sender = body.get("sender") if isinstance(body.get("sender"), str) else ""
    messages: list[dict[str, str]] = [{"recipient_id": sender, "text": text}]
    return jsonify(messages), status


def _rate_limited(body: dict[str, Any], wait: float) -> tuple[Response, int]:
    """Too many messages from this client: the calm reply (911, 988) and when to try again."""
    response, status = _calm_reply(body, 429, _settings()["rate_limited_reply"])
    response.headers["Retry-After"] = str(max(1, round(wait)))
    return response, status


def _refuse(status: int, reason: str) -> tuple[Response, int]:
    return jsonify({"error": reason}), status


@bp.get("/")
def demo_page() -> Response:
    """A provider-style page for families, with the widget."""
    name = provider()["name"]  # empty unless the provider configured it: nothing is made up
    response = Response(render_template("widget/demo.html", provider_name=name, site_name=name or "Family Support"))
    response.headers["Content-Security-Policy"] = DEMO_CSP
    return response


@bp.get("/widget.js")
def widget_js() -> Response:
    """The one file a provider's page loads (a short cache, so fixes reach families within minutes)."""
    assert bp.static_folder is not None
    return send_from_directory(bp.static_folder, "widget.js", max_age=300)


@bp.route(WEBHOOK, methods=["POST", "OPTIONS"])
def rasa_proxy() -> Any:
    """Forward one turn to Rasa's REST channel and return its status and JSON."""
    if request.method == "OPTIONS":  # CORS preflight; the headers are added in _cors
        return Response(status=204 if _allowed_origin() else 403)
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        return _refuse(413, "the body is too large")
    if request.mimetype != "application/json":
        return _refuse(415, "send JSON (Content-Type: application/json)")
    raw = request.get_data(cache=True)
    if len(raw) > MAX_BODY_BYTES:
        return _refuse(413, "the body is too large")
    try:
        body = json.loads(raw)
    except ValueError:
        return _refuse(400, "the body is not valid JSON")
    if not isinstance(body, dict):
        return _refuse(400, "the body must be a JSON object")
    wait = current_app.extensions["chat_limiter"].take(request.remote_addr or "")
    if wait:
        return _rate_limited(body, wait)
    try:
        answer = _rasa_session().post(
            _settings()["rasa_url"].rstrip("/") + WEBHOOK, json=body, timeout=RASA_TIMEOUT_SECONDS
        )
    except requests.RequestException as error:
        logger.warning("Rasa unreachable: %s", type(error).__name__)
        return _calm_reply(body, 503)
    try:
        messages = answer.json()
    except ValueError:
        logger.warning("Rasa answered %s without JSON", answer.status_code)
        return _calm_reply(body, 502)
    if answer.status_code >= 500:
        logger.warning("Rasa answered %s", answer.status_code)
    live.after_turn(body, messages, answer.status_code)
    return jsonify(messages), answer.status_code


def _allowed_origin() -> str:
    """The request's Origin when it is one of the configured allowed_origins, else ''."""
    origin = request.headers.get("Origin", "")
    allowed = [item.rstrip("/") for item in _settings().get("allowed_origins") or [] if item != "*"]
    return origin if origin and origin in allowed else ""


@bp.after_request
def _cors(response: Response) -> Response:
    """CORS for the proxy and the live hand-off's family endpoints, only for configured origins (never "*")."""
    if request.path == WEBHOOK or request.path in live.PATHS:
        response.vary.add("Origin")
        origin = _allowed_origin()
        if origin:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers.update(CORS_HEADERS)
    return response


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    return response


def init_app(app: Flask) -> None:
    settings = app.config["SETTINGS"]
    app.extensions["chat_limiter"] = TokenBuckets(
        int(settings.get("rate_limit_per_minute") or 0), int(settings.get("rate_limit_burst") or 1)
    )
    app.register_blueprint(bp)
    app.after_request(_security_headers)
