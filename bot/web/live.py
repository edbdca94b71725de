"""The family's side of the live hand-off (README, "Live hand-off"; the staff side is bot.staff.live_views).

- ``POST /live/request`` {"sender"}: "Chat with our team" was pressed: the conversation joins the live queue during
  staffed hours; outside them the family gets the helpline and the provider's contact.
- ``POST /live/poll`` {"sender", "after"}: the widget asks every `poll_seconds` while a hand-off is waiting or
  active: its state, the staff member's name, and the notices and staff messages stored after event `after`. A
  request nobody took by its deadline expires here (or in the console) and the family gets the helpline and contact.
- After a turn of a conversation a person has (Rasa paused it, so only an emergency gets an answer, from the REST
  channel): that answer is written to the tracker too, so staff and the transcript see what the family was told.

JSON like the chat proxy, no cookies: the random conversation id is the family's only handle, as for the chat itself.
Polling rather than a stream, for the reasons bot.staff.alert_views gives. Message text is never logged.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify, request

from bot.core import live_chat
from bot.core.live_chat import LiveChat
from bot.staff import live
from bot.staff.config import staff_settings
from bot.staff.db import engine

bp = Blueprint("live", __name__)
MAX_BODY_BYTES = 4096
PATHS = ("/live/request", "/live/poll")


def settings() -> LiveChat:
    return current_app.extensions["live_chat"]


def _db() -> Any:
    return engine(current_app.extensions["staff"].database_url)


def _body() -> tuple[dict[str, Any] | None, tuple[Response, int] | None]:
    if request.mimetype != "application/json":
        return None, (jsonify({"error": "send JSON (Content-Type: application/json)"}), 415)
    raw = request.get_data(cache=True)
    if len(raw) > MAX_BODY_BYTES:
        return None, (jsonify({"error": "the body is too large"}), 413)
    try:
        body = json.loads(raw)
    except ValueError:
        return None, (jsonify({"error": "the body is not valid JSON"}), 400)
    sender = body.get("sender") if isinstance(body, dict) else None
    if not isinstance(sender, str) or not sender.strip() or len(sender) > 128:
        return None, (jsonify({"error": "'sender' must be a non-empty string"}), 400)
    return body, None


def _preflight() -> Response:
    from bot.web.widget import _allowed_origin  # (the widget module imports this one)

    return Response(status=204 if _allowed_origin() else 403)


@bp.after_request
def _cors(response: Response) -> Response:
    """The same CORS as the chat proxy: only for config/web.yml's allowed_origins."""
    from bot.web.widget import _cors as proxy_cors

    return proxy_cors(response)


def _off() -> tuple[Response, int]:
    return jsonify({"status": "off", "error": "live chat is off (config/provider.yml, live_chat)"}), 404


def _open() -> tuple[dict, Any, Any]:
    """What both family endpoints check first: a preflight, a valid body, live chat switched on."""
    if request.method == "OPTIONS":
        return {}, None, _preflight()
    body, refusal = _body()
    if refusal:
        return {}, None, refusal
    options = settings()
    if not options.enabled:
        return {}, None, _off()
    return body or {}, options, None


@bp.route("/live/request", methods=["POST", "OPTIONS"])
def request_live() -> Any:
    body, options, refusal = _open()
    if refusal is not None:
        return refusal
    wait = current_app.extensions["chat_limiter"].take(request.remote_addr or "")
    if wait:
        return jsonify({"status": "busy", "messages": [current_app.config["SETTINGS"]["rate_limited_reply"]]}), 429
    db = _db()
    live.expire_overdue(db, options, current_app.extensions["rasa_api"])
    after = live.last_event_id(db, body["sender"])
    row = live.request(db, options, body["sender"])
    if row is None:
        return jsonify({"status": "closed", "messages": live_chat.fallback(options, "closed"), "after": after})
    messages = [options.text("waiting")] if row["status"] == live.WAITING else []
    return jsonify({"status": row["status"], "name": row.get("agent_name") or "", "messages": messages,
                    "after": after, "poll_seconds": options.poll_seconds})


@bp.route("/live/poll", methods=["POST", "OPTIONS"])
def poll() -> Any:
    body, options, refusal = _open()
    if refusal is not None:
        return refusal
    after = body.get("after")
    after = after if isinstance(after, int) and not isinstance(after, bool) and after >= 0 else 0
    db = _db()
    live.expire_overdue(db, options, current_app.extensions["rasa_api"])
    answer = live.family_updates(db, body["sender"], after)
    answer["poll_seconds"] = options.poll_seconds
    if answer["status"] == live.EXPIRED:
        answer["messages"].append({"kind": "timed_out", "texts": live_chat.fallback(options, "timed_out")})
    return jsonify(answer)


def after_turn(body: dict[str, Any], messages: Any, status: int) -> None:
    """Called by the chat proxy after each answered turn: when a person has this conversation, what the channel
    answered (an emergency answer; nothing else is answered while paused) goes into the tracker, off the turn."""
    options = current_app.extensions.get("live_chat")
    if options is None or not options.enabled or status != 200 or not messages or not isinstance(messages, list):
        return
    sender = body.get("sender")
    db = _db()
    if not isinstance(sender, str) or not live.is_active(db, sender):
        return
    texts = [m["text"] for m in messages if isinstance(m, dict) and isinstance(m.get("text"), str)]
    api = current_app.extensions["rasa_api"]
    events = [live.bot_event(text, "assistant") for text in texts]  # (the channel's emergency answer)
    threading.Thread(target=_append_quietly, args=(api, sender, events), daemon=True).start()


def _append_quietly(api: live.RasaApi, sender: str, events: list[dict[str, Any]]) -> None:
    try:
        api.append(sender, events)
    except live.LiveChatError:
        pass  # logged by append; the family already has the answer


def init_app(app: Flask) -> None:
    """Validate the live chat settings now (a mistake stops the web server with the key that is wrong)."""
    app.extensions["live_chat"] = live_chat.load()
    app.extensions["rasa_api"] = live.rasa_api(app.config["SETTINGS"])
    app.extensions.setdefault("staff", staff_settings(app.config["SETTINGS"]))
    app.register_blueprint(bp)
