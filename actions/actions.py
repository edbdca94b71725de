"""Custom actions for the rasa-sdk action server. Emergency answers never depend on these."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.content import information_intents, more_about
from bot.provider import contact_message

NOTHING_MORE = "That's everything I have on that topic."


class ActionProviderContact(Action):
    """Adds the configured treatment provider's contact to a professional escalation; silent if none is set."""

    def name(self) -> Text:
        return "action_provider_contact"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict]:
        message = contact_message()
        if message:
            dispatcher.utter_message(text=message)
        return []


def last_topic(tracker: Tracker) -> tuple[Optional[str], int]:
    """The latest information intent before this "tell me more", and how many "more"s followed it."""
    topics = set(information_intents())
    mores = 0
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        intent = (event.get("parse_data") or {}).get("intent", {}).get("name")
        if intent == "ask_more":
            mores += 1
        elif intent in topics:
            return intent, mores - 1
        else:
            return None, 0
    return None, 0


class ActionTellMore(Action):
    """"Tell me more": the next sentences of the source on the last topic, then its related topics again."""

    def name(self) -> Text:
        return "action_tell_more"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict]:
        topic, page = last_topic(tracker)
        if topic is None:
            dispatcher.utter_message(response="utter_ask_topics")
            return []
        short_answer = domain.get("responses", {}).get(f"utter_{topic}", [{}])[0]
        more = more_about(topic, short_answer.get("text", ""), page)
        if more is None:
            dispatcher.utter_message(text=NOTHING_MORE)
            dispatcher.utter_message(response="utter_ask_topics")
        else:
            dispatcher.utter_message(text=more, buttons=short_answer.get("buttons", []))
        return []
