"""Custom actions for the rasa-sdk action server. Emergency answers never depend on these."""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.core import live_chat
from bot.core.after_emergency import (
    HELP_ON_THE_WAY,
    acknowledgement,
    afraid_once_helped,
    asks_once_helped,
    emergency_answers_in_a_row,
    emergency_for_check,
    for_own_denial,
    help_called,
    help_done,
    help_present,
    previous_crisis_answer,
    says_now,
)
from bot.core.content import contract, information_intents, more_about, titles
from bot.core.pointing import (
    about_the_assistant,
    asks_about_cause,
    asks_about_efficacy,
    asks_what_to_do,
    no_subject,
    points_back,
)
from bot.core.provider import contact_message
from bot.core.settings import load_yaml

NOTHING_MORE = "That's everything I have on that topic."
# Answers a topic the family chose in a "Did you mean ...?" or after "No, I have a question" may get.
ANSWERABLE_GROUPS = ("information", "escalation")
NEVER_OFFERED = {"emergency_medical", "emergency_self_harm", "ask_more", "ask_next_step", "ask_followup_is_it_safe"}
LIVE_CHAT = live_chat.load()  # a malformed live_chat section of config/provider.yml stops the action server here


def followups() -> Dict[str, Any]:
    return load_yaml("config/followups.yml")


class ActionProviderContact(Action):
    """Adds the configured treatment provider's contact to a professional escalation; silent if none is set. During
    the provider's staffed hours (live chat, config/provider.yml) a request for a person also gets the offer and a
    "Chat with our team" button, as a custom message the widget turns into the button (it starts the hand-off on the
    web server; it is not a message to the assistant)."""

    def name(self) -> Text:
        return "action_provider_contact"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict]:
        message = contact_message()
        if message:
            dispatcher.utter_message(text=message)
        intent = (tracker.latest_message or {}).get("intent", {}).get("name")
        if intent in LIVE_CHAT.offer_intents and LIVE_CHAT.staffed():
            dispatcher.utter_message(text=LIVE_CHAT.text("offer"),
                                     json_message={"live_chat": {"offer": LIVE_CHAT.text("button")}})
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
        # the topic being talked about: the slot follows answers given in context, not only classified intents
        topic, page = last_topic(tracker)
        slot = tracker.get_slot("last_topic")
        if slot in information_intents() and slot != topic:
            topic, page = slot, 0
        shown_topic, _, shown = (tracker.get_slot("more_shown") or "").partition(":")
        if shown_topic == topic and shown.isdigit():  # pages already shown, also by follow-ups
            page = max(page, int(shown))
        named = named_topic(tracker, followups().get("more") or {})
        if named and named != topic:  # "tell me more about the therapy part": the topic it names, not the last one
            if not answered_before(tracker, named):
                dispatcher.utter_message(response=f"utter_{named}")
                return [SlotSet("last_topic", named)]
            topic, page = named, 0
            if shown_topic == named and shown.isdigit():
                page = int(shown)
        if topic not in information_intents():
            dispatcher.utter_message(response="utter_ask_topics")
            return []
        short_answer = domain.get("responses", {}).get(f"utter_{topic}", [{}])[0]
        more = more_about(topic, short_answer.get("text", ""), page)
        if more is None:
            dispatcher.utter_message(text=NOTHING_MORE)
            dispatcher.utter_message(response="utter_ask_topics")
        else:  # said which topic this is more on: its sentences may open like another topic's answer
            dispatcher.utter_message(text=followups()["followup"]["intro"].format(topic=titles().get(topic, topic)))
            dispatcher.utter_message(text=more, buttons=short_answer.get("buttons", []))
        return [SlotSet("more_shown", f"{topic}:{page + 1}"), SlotSet("last_topic", topic)]


def named_topic(tracker: Tracker, settings: Dict[str, Any]) -> Optional[str]:
    """The topic a "tell me more about ..." names, if it names one: the message has a subject after "more about"
    that is not just a pointer ("about that"), and the classifier's likeliest information topic after ask_more gets
    at least `named_min` (config/followups.yml `more`)."""
    text = (tracker.latest_message.get("text") or "").lower()
    found = re.search(settings.get("subject", r"(?!)"), text)
    if not found:
        return None
    subject = set(re.findall(r"[a-z']+", found.group("subject"))) - set(settings.get("not_a_subject") or ())
    if not subject:
        return None
    topics = set(information_intents())
    for entry in tracker.latest_message.get("intent_ranking") or []:
        if entry.get("name") in topics:
            return entry["name"] if entry.get("confidence", 0) >= settings.get("named_min", 0.01) else None
    return None


def answered_before(tracker: Tracker, topic: str) -> bool:
    """Whether this conversation has already shown the topic's short answer."""
    return any(
        event.get("event") == "bot" and (event.get("metadata") or {}).get("utter_action") == f"utter_{topic}"
        for event in tracker.events
    )


class ActionNextStep(Action):
    """"And after that?": the topic that follows the last one (config/followups.yml `next`)."""

    def name(self) -> Text:
        return "action_next_step"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict]:
        following = followups().get("next", {}).get(tracker.get_slot("last_topic") or "")
        if not following:
            dispatcher.utter_message(response="utter_ask_topics")
            return []
        dispatcher.utter_message(response=f"utter_{following}")
        return [SlotSet("last_topic", following)]


class ActionFollowupSafety(Action):
    """"Is that safe?": what the source says about safety for the last topic, or an honest "not covered"."""

    def name(self) -> Text:
        return "action_followup_safety"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict]:
        answer = followups().get("safe", {}).get(tracker.get_slot("last_topic") or "")
        dispatcher.utter_message(response=f"utter_{answer}" if answer else "utter_ask_not_covered")
        return []


def answerable(intent: Optional[str]) -> bool:
    entry = contract().get(intent or "")
    return bool(entry) and entry["group"] in ANSWERABLE_GROUPS and entry.get("set_by") != "safety_net" and (
        intent not in NEVER_OFFERED
    )


class ActionAnswerAfterCheck(Action):
    """"No, it isn't happening now" after "Is this happening right now?": the answer to what was asked."""

    def name(self) -> Text:
        return "action_answer_after_check"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict]:
        asked = None
        for event in reversed(tracker.events):
            safety = (event.get("parse_data") or {}).get("safety") if event.get("event") == "user" else None
            if safety and safety.get("outcome") == "asked":
                asked = safety.get("answer_intent") or safety.get("classifier_intent")
                break
        if not answerable(asked):
            dispatcher.utter_message(response="utter_affirm")
            return []
        dispatcher.utter_message(text=followups()["after_check"])
        dispatcher.utter_message(response=f"utter_{asked}")
        return [SlotSet("last_topic", asked)] if asked in information_intents() else []


def emergency_just_answered(tracker: Tracker) -> Optional[str]:
    """The emergency response (or the acknowledgement after one) the previous turn gave, if any: the same rule as
    bot/rasa/nlg.py (bot/core/after_emergency.py)."""
    found = previous_crisis_answer(reversed(tracker.events))
    return found[0] if found and not found[0].startswith("utter_safety_check_") else None


class ActionClarify(Action):
    """Low or split confidence: "Did you mean ...?" with the likeliest topics, never a confident wrong answer.

    The FallbackClassifier (config.yml) decides when; config/followups.yml `clarify` says how many topics to offer
    and the least confidence a topic needs to be offered. With none above it, a question about benzodiazepines or
    treatment (config/followups.yml `in_field`) gets the honest "that isn't covered"; anything else, "rephrase"."""

    def name(self) -> Text:
        return "action_clarify"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict]:
        text = tracker.latest_message.get("text") or ""
        again = emergency_just_answered(tracker)
        checked = previous_crisis_answer(reversed(tracker.events))
        if checked and checked[0].startswith("utter_safety_check_") and help_called(text):
            again = HELP_ON_THE_WAY  # "what do i do until they get here" after "Is this happening right now?"
        elif checked and checked[0].startswith("utter_safety_check_") and says_now(text):
            again = emergency_for_check(checked[0])  # "hes alone at his flat right now": yes, it is happening
        repeats = int(followups().get("after_emergency_repeats", 1))
        likeliest = next((r.get("name") for r in tracker.latest_message.get("intent_ranking") or []
                          if r.get("name") != "nlu_fallback"), None)
        if (again or checked) and (afraid_once_helped(text) or help_done(text) and likeliest == "express_overwhelmed"):
            # "paramedics took her in. i feel awful i didnt stop her" (dialogues35): fear and guilt once help is
            # there get the answer for feeling overwhelmed, which still gives 911 and 988 - as in bot/rasa/nlg.py
            dispatcher.utter_message(response="utter_express_overwhelmed")
            return []
        if again and asks_once_helped(text):
            again = None  # "they took her to hospital. how do we get her proper help": the same rule as bot/rasa/nlg.py
        elif again and help_called(text):
            again = HELP_ON_THE_WAY  # "ok ambulance is on the way", however often the answer was given
        elif again and help_present(text):
            again = HELP_ON_THE_WAY  # "he's here with me now, he says he didn't mean it": the guidance, acknowledged
        elif again and emergency_answers_in_a_row(reversed(tracker.events)) > repeats:
            again = None  # asked again after a repeat
        if again:  # in a crisis, "Did you mean ...?" must not replace the 911 / 988 guidance
            again = for_own_denial(text, again) or again  # the same rule as bot/rasa/nlg.py
            if again == HELP_ON_THE_WAY or help_called(text):
                dispatcher.utter_message(text=acknowledgement())
            else:
                dispatcher.utter_message(response=again)
            return []
        last = tracker.get_slot("last_topic")
        follow = followups().get("followup", {})
        pointing = last in information_intents() and points_back(text, follow)
        if pointing and (asks_about_efficacy(text, follow) or asks_about_cause(text, follow)):
            # "do they help?", "could the pills do that?" - before the everyday replies below: "do they actually
            # help" placed between thank and affirm is still about the last answer (dialogues10)
            return ActionTellMore().run(dispatcher, tracker, domain)
        settings = followups().get("clarify", {})
        ranking = tracker.latest_message.get("intent_ranking") or []
        social = list(settings.get("social") or ())
        top_two = [r.get("name") for r in ranking if r.get("name") != "nlu_fallback"][:2]
        if len(top_two) == 2 and all(name in social for name in top_two):
            dispatcher.utter_message(response=f"utter_{min(top_two, key=social.index)}")
            return []
        named = titles()
        candidates = [r for r in ranking if answerable(r.get("name")) and r["name"] in named]
        if last in information_intents() and no_subject(text, follow) and not about_the_assistant(text):
            return ActionTellMore().run(dispatcher, tracker, domain)  # "is that normal?": no subject but the last one
        todo = followups().get("todo") or {}
        if last in information_intents() and asks_what_to_do(text):
            following = (todo.get("topics") or {}).get(last)  # "so what should he do instead?" after quitting at once
            if not following:
                return ActionTellMore().run(dispatcher, tracker, domain)  # "what do we do now?" after a relapse
            dispatcher.utter_message(response=f"utter_{following}")
            return [SlotSet("last_topic", following)]
        first = followups().get("first") or {}
        if last in (first.get("topics") or {}) and re.search(first.get("pattern", r"(?!)"), text.lower()):
            following = first["topics"][last]  # "what's the first step?" after the stages: detox
            dispatcher.utter_message(response=f"utter_{following}")
            return [SlotSet("last_topic", following)]
        in_context = (
            (self._named(text, last, domain, follow, pointing) if last else None)
            or self._in_context(candidates, last, domain, settings)
            or (self._offered(candidates, last, domain, follow) if pointing else None)
        )
        if in_context:  # a follow-up ("so what's the safer way then?") the last answer's topics explain
            dispatcher.utter_message(response=f"utter_{in_context}")
            return [SlotSet("last_topic", in_context)] if in_context in information_intents() else []
        if self._still_on(candidates, last, settings):  # "so I should stop? he'll have no food" after enabling
            return ActionTellMore().run(dispatcher, tracker, domain)
        options = [
            r["name"] for r in candidates if r.get("confidence", 0) >= settings.get("min", 0.1)
        ][: int(settings.get("options", 3))]
        if not options and pointing:  # "how bad is that really?": more on the topic being talked about
            return ActionTellMore().run(dispatcher, tracker, domain)
        if not options and re.search(followups()["in_field"], text.lower()):
            dispatcher.utter_message(response="utter_ask_not_covered")  # about benzos, but no topic answers it
            return []
        if not options:
            dispatcher.utter_message(text=" ".join(settings["rephrase"].split()))
            dispatcher.utter_message(response="utter_ask_topics")
            return []
        buttons = [{"title": named[o], "payload": f"/{o}"} for o in options]
        buttons.append({"title": "Something else", "payload": "/ask_topics"})
        dispatcher.utter_message(text=settings["text"], buttons=buttons)
        return []

    @staticmethod
    def _related(last: str, domain: Dict[Text, Any]) -> set:
        """The last topic, the topics its answer offered as buttons, and its next step."""
        answer = (domain.get("responses", {}).get(f"utter_{last}") or [{}])[0]
        related = {last, followups().get("next", {}).get(last)}
        return related | {b.get("payload", "").lstrip("/") for b in answer.get("buttons", [])}

    @classmethod
    def _named(
        cls, text: str, last: str, domain: Dict[Text, Any], follow: Dict[str, Any], pointing: bool = False
    ) -> Optional[str]:
        """The one offered topic a follow-up names by what it is about (config/followups.yml `about`), if any; a
        message that points back ("which of those is about emotions") may name any of them."""
        about = follow.get("about") or {}
        choices = cls._related(last, domain) | (set(about) if last in about or pointing else set())
        named = [t for t, words in about.items() if t in choices and t != last and re.search(words, text.lower())]
        return named[0] if len(named) == 1 else None

    @classmethod
    def _offered(
        cls, candidates: List[Dict[str, Any]], last: str, domain: Dict[Text, Any], follow: Dict[str, Any]
    ) -> Optional[str]:
        """Among the topics the last answer offered, the one the classifier clearly prefers ("which of the two is
        about emotions?" after the therapy answer), if any."""
        related = cls._related(last, domain)
        offered = [c for c in candidates if c["name"] in related and c["name"] != last]
        if not offered:
            return None
        best = offered[0].get("confidence", 0)
        runner_up = offered[1].get("confidence", 0) if len(offered) > 1 else 0.0
        if best >= follow.get("related_min", 0.08) and best >= follow.get("related_ratio", 2.0) * runner_up:
            return offered[0]["name"]
        return None

    @staticmethod
    def _still_on(candidates: List[Dict[str, Any]], last: Optional[str], settings: Dict[str, Any]) -> bool:
        """Whether an unsure message most likely goes on with the topic just answered: that topic is one of the
        classifier's two likeliest with at least `still_on_min` (config/followups.yml `clarify`). A family that has
        just read an answer mostly goes on about it; "Did you mean <the answer you just read>?" helps nobody."""
        if last not in information_intents():
            return False
        top_two = candidates[:2]
        return any(c["name"] == last and c.get("confidence", 0) >= settings.get("still_on_min", 1.0) for c in top_two)

    @classmethod
    def _in_context(
        cls, candidates: List[Dict[str, Any]], last: Optional[str], domain: Dict[Text, Any], settings: Dict[str, Any]
    ) -> Optional[str]:
        """The likeliest topic when it is the last topic itself or one the last answer offered (its buttons, or the
        next step) and the classifier gives it at least `context_min`; None otherwise."""
        if not last or not candidates:
            return None
        related = cls._related(last, domain)
        top = candidates[0]
        if top["name"] in related and top.get("confidence", 0) >= settings.get("context_min", 0.2):
            return top["name"]
        return None
