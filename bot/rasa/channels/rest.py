"""Rasa's REST channel with input checks and no silent failures.

- A request that is not a JSON object with a string "sender" and a string "message" gets a 400 with a reason.
- An empty or whitespace-only message gets a calm reply without going through the model.
- At most `max_concurrent_turns` turns run at once; the others queue in order, emergencies first (gate.py).
- A turn that produces no answer (e.g. a custom action while the action server is down) gets a calm reply.
- A turn that fails (e.g. the database is unreachable) gets a 503 with a calm reply, never an empty 200. That
  includes a turn whose conversation the tracker store could not read or write: Rasa's FailSafeTrackerStore swallows
  those errors, so the store records them in the turn's TurnHealth (bot.rasa.tracker_store) and this channel checks it.
- Whatever fails, a message the safety net (bot.core.safety) finds to be an emergency, or unclear, still gets the
  emergency answer (or the "is this happening now?" question) in that 503's body: the same domain response the
  assistant would have sent, read from domain.yml, so the wording has one source.
- A conversation a person has taken over (live hand-off: its tracker is paused, so Rasa answers nothing) gets that
  same emergency answer when the safety net finds one, and an empty answer otherwise.
Message text is never logged.
"""

from __future__ import annotations

import gc
import logging
from asyncio import CancelledError
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text, Tuple

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.core.safety import NOT_NOW, SafetyNet
from bot.core.settings import load_yaml
from bot.rasa import patches
from bot.rasa.channels.gate import TurnGate
from bot.rasa.tracker_store import begin_turn

logger = logging.getLogger(__name__)
patches.log_state()  # installed by bot.rasa.cli; a plain `rasa run` gets a warning in the log


def _channel_config() -> Dict[str, Any]:
    return load_yaml("config/channel.yml")


def _reply(sender: Text, key: str) -> List[Dict[str, Any]]:
    return [{"recipient_id": sender, "text": _channel_config()["replies"][key]}]


def safety_reply(sender: Text, text: str) -> Optional[List[Dict[str, Any]]]:
    """The answer for an emergency (or an unclear danger) when the turn itself could not give one."""
    decision = SafetyNet.from_settings().decide(text)
    if decision is None or decision.outcome == NOT_NOW or decision.intent is None:
        return None
    variations = load_yaml("domain.yml")["responses"][f"utter_{decision.intent}"]
    plain = next(v for v in variations if "{" not in v["text"])  # the variation without the loved one's name
    return [{"recipient_id": sender, "text": " ".join(plain["text"].split())}]


def _failed(sender: Text, text: str) -> HTTPResponse:
    """A failed turn's 503: the emergency answer when the message needs one, else the calm reply."""
    return response.json(safety_reply(sender, text) or _reply(sender, "unavailable"), status=503)


async def _paused(request: Request, sender: Text) -> bool:
    """Whether a person has this conversation (live hand-off: the tracker is paused, README "Live hand-off"): Rasa
    then answers nothing by design, and only an emergency gets an answer, from here."""
    agent = getattr(request.app.ctx, "agent", None)
    store = getattr(agent, "tracker_store", None)
    if store is None:
        return False
    tracker = await store.retrieve(sender)
    return tracker is not None and tracker.is_paused()


def _error(status: int, reason: str) -> HTTPResponse:
    return response.json({"error": reason}, status=status)


def parse_request(request: Request) -> Tuple[Optional[Dict[str, Any]], Optional[HTTPResponse]]:
    """The request's JSON body, or the 4xx answer it deserves."""
    if "json" not in (request.content_type or ""):
        return None, _error(415, "send JSON (Content-Type: application/json)")
    try:
        body = request.json
    except Exception:  # sanic raises its own InvalidUsage on malformed JSON
        return None, _error(400, "the body is not valid JSON")
    if not isinstance(body, dict):
        return None, _error(400, "the body must be a JSON object")
    config = _channel_config()
    sender, message = body.get("sender"), body.get("message")
    if not isinstance(sender, str) or not sender.strip() or len(sender) > config["max_sender_chars"]:
        return None, _error(400, "'sender' must be a non-empty string")
    if not isinstance(message, str):
        return None, _error(400, "'message' must be a string")
    if len(message) > config["max_message_chars"]:
        return None, response.json(_reply(sender, "too_long"), status=413)
    metadata = body.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        return None, _error(400, "'metadata' must be an object")
    return body, None


class SafeRestInput(RestInput):
    @classmethod
    def name(cls) -> Text:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("safe_rest_webhook", __name__)
        net = SafetyNet.from_settings()
        gate = TurnGate(
            int(_channel_config()["max_concurrent_turns"]),
            lambda text: (decision := net.decide(text)) is not None and decision.outcome != NOT_NOW,
        )

        @webhook.listener("after_server_start")
        async def freeze_loaded_objects(app: Any, loop: Any) -> None:
            """The model is loaded by now: keep its objects out of the garbage collector's full collections, which
            otherwise walk them all (hundreds of MB) and stall every turn in progress."""
            gc.collect()
            gc.freeze()
            logger.info("Model loaded: %d objects kept out of garbage collection", gc.get_freeze_count())

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            body, refusal = parse_request(request)
            if refusal is not None:
                return refusal
            assert body is not None
            sender, text = body["sender"], body["message"]
            if not text.strip():
                return response.json(_reply(sender, "empty"))
            collector = CollectingOutputChannel()
            health = begin_turn()
            try:
                async with gate.turn(text):
                    await on_new_message(
                        UserMessage(text, collector, sender, input_channel=self.name(), metadata=body.get("metadata"))
                    )
            except CancelledError:
                logger.error("REST turn timed out")
                return _failed(sender, text)
            except Exception as error:  # the turn failed: say so, never an empty 200
                logger.error("REST turn failed: %s", type(error).__name__)
                return _failed(sender, text)
            if health.failed:  # the conversation was not stored: say so rather than answer as if it were
                logger.error("REST turn not stored: %s", "; ".join(health.failures))
                return _failed(sender, text)
            if not collector.messages:
                if await _paused(request, sender):  # a person answers: nothing but an emergency answer from here
                    return response.json(safety_reply(sender, text) or [])
                return response.json(safety_reply(sender, text) or _reply(sender, "unavailable"))
            return response.json(collector.messages)

        return webhook
