"""The turn after an emergency answer, one rule for bot/rasa/nlg.py (Rasa's events) and action_clarify (the action
server's event dicts): what the previous turn answered in a crisis, and the acknowledgement that repeats the guidance
(config/followups.yml `help_on_the_way`, `help_called`). Plain Python: the action server ships without Rasa."""

from __future__ import annotations

import re
from typing import Any, Dict, Iterable, Optional, Tuple

from bot.core.settings import load_yaml

HELP_ON_THE_WAY = "help_on_the_way"  # not a domain response: the text of config/followups.yml


def acknowledgement() -> str:
    return " ".join(str(load_yaml("config/followups.yml")["help_on_the_way"]).split())


# "hes", "he's", "he’s" -> "he is" (and she / they; "I'm" -> "i am"), so the patterns of config/followups.yml name one
# spelling
_PRONOUN_BE = ((re.compile(r"\b(he|she)(?:'s|s)\b"), r"\1 is"), (re.compile(r"\bthey(?:'re|re)\b"), "they are"),
               (re.compile(r"\bi'm\b"), "i am"))   # "No I'm not going to do anything" (dialogues35)


def _plain(text: str) -> str:
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    for pattern, replacement in _PRONOUN_BE:
        text = pattern.sub(replacement, text)
    return text


def help_called(text: str) -> bool:
    """Whether a message says help is being called ("ok calling 911 now")."""
    return bool(re.search(str(load_yaml("config/followups.yml").get("help_called") or r"(?!)"), _plain(text)))


def asks_beyond_help(text: str) -> bool:
    """Whether a message saying help is called also asks something else ("ok I called the crisis line and they're
    talking to him. should I call his doctor about the refill too"): config/followups.yml `asks_after_help`, read on
    the message with the call itself taken out; only once the call is made (`already_called`), and waiting for help
    ("what do I do until they get here", `waiting_for_help`) is not a question of its own."""
    settings, plain = load_yaml("config/followups.yml"), _plain(text)
    if waiting_for_help(text):
        return False
    if not re.search(str(settings.get("already_called") or r"(?!)"), plain):
        return False  # "ok i'll call. is this the withdrawal talking?" (dialogues15): not called yet - the guidance
    rest = re.sub(str(settings.get("help_called") or r"(?!)"), " ", plain)
    return bool(re.search(str(settings.get("asks_after_help") or r"(?!)"), rest))


# a message that asks something ("where do we even start", "is she gonna be ok?", "is this my fault")
_QUESTION = re.compile(r"\?|\b(?:what|how|where|which|who|when|why|is there|are there|can|could|should|do|does|will)\b"
                       r"|^(?:is|are|was|were|did|would|am) (?:it|this|that|he|she|they|i|we|there)\b")


def asks(text: str) -> bool:
    return bool(_QUESTION.search(_plain(text)))


def waiting_for_help(text: str) -> bool:
    """Whether a message is about the wait for help ("what do i do while we wait"): config/followups.yml."""
    return bool(re.search(str(load_yaml("config/followups.yml").get("waiting_for_help") or r"(?!)"), _plain(text)))


def asks_once_helped(text: str) -> bool:
    """Whether this message asks a question of its own once help is there (`help_present`: "my aunt is taking her to
    the ER now. why did that happen", dialogues43), and not about the wait for help ("what do i do while we wait"
    keeps the guidance): answered as placed, not with the guidance again."""
    return asks(text) and not waiting_for_help(text) and help_present(text)


def asks_if_ok(text: str) -> bool:
    """Whether a message asks if the person will be all right ("is he going to be ok??"; config/followups.yml)."""
    return bool(re.search(str(load_yaml("config/followups.yml").get("asks_if_ok") or r"(?!)"), _plain(text)))


def help_done(text: str) -> bool:
    """Whether a message says help has come or the call has been made ("paramedics are here", "i rang lifeline and
    they were good"): fear told after it ("im so scared") is answered as fear, not with "call 911 if you haven't".
    Waiting for help to come ("911 are on the way what do i do till they get here", dialogues40) is not: the
    guidance is what they need then."""
    if help_present(text):
        return True
    if re.search(str(load_yaml("config/followups.yml").get("waiting_for_help") or r"(?!)"), _plain(text)):
        return False
    return help_called(text) and bool(re.search(str(load_yaml("config/followups.yml").get("already_called") or
                                                    r"(?!)"), _plain(text)))


def afraid_once_helped(text: str) -> bool:
    """Whether the writer tells their own fear or shock once help is there or called ("the paramedics took her. i feel
    sick and im shaking"): answered as feeling overwhelmed (which still gives 911 and 988), whatever the classifier
    made of it (config/followups.yml `fear_once_helped`). One rule for bot/rasa/nlg.py and action_clarify."""
    return help_done(text) and bool(re.search(str(load_yaml("config/followups.yml").get("fear_once_helped") or
                                                  r"(?!)"), _plain(text)))


def help_present(text: str) -> bool:
    """Whether a message says someone is with them or help has come ("her mom is with her now", "hes in the ER")."""
    return bool(re.search(str(load_yaml("config/followups.yml").get("help_present") or r"(?!)"), _plain(text)))


def denies_danger(text: str) -> bool:
    """Whether a message only reports the person saying they are fine ("she says she won't do anything")."""
    return bool(re.search(str(load_yaml("config/followups.yml").get("denies_danger") or r"(?!)"), _plain(text)))


def own_denial(text: str) -> bool:
    """Whether the writer says they won't do anything ("im not going to do anything i just needed to say it")."""
    return bool(re.search(str(load_yaml("config/followups.yml").get("own_denial") or r"(?!)"), _plain(text)))


def asks_for_person(text: str) -> bool:
    """Whether a message asks for someone to talk to ("is there someone i can actually talk to")."""
    return bool(re.search(str(load_yaml("config/followups.yml").get("asks_for_person") or r"(?!)"), _plain(text)))


def for_own_denial(text: str, emergency: str) -> Optional[str]:
    """The answer instead of `emergency` (a self-harm emergency answer) when the writer says they won't do anything and
    asks for no one ("no im not going to do anything. i just needed to say it to someone", dialogues28):
    config/followups.yml `own_denial_answer` (feeling overwhelmed, which gives 988), or None when the rule does not
    apply. One rule for bot/rasa/nlg.py and action_clarify."""
    if "self_harm" not in emergency or not own_denial(text) or asks_for_person(text):
        return None
    return str(load_yaml("config/followups.yml").get("own_denial_answer") or emergency)


def says_now(text: str) -> bool:
    """Whether a reply to "Is this happening right now?" says it is ("hes alone at his flat right now")."""
    return bool(re.search(str(load_yaml("config/followups.yml").get("check_now") or r"(?!)"), _plain(text)))


def emergency_for_check(check: str) -> str:
    """The emergency answer a "happening right now?" question (utter_safety_check_<kind>[_es]) was asking about."""
    return check.replace("utter_safety_check_", "utter_emergency_")


def answered(bot_event: Dict[str, Any]) -> str:
    """The response a bot event gave: the one bot/rasa/nlg.py put in place of the action's (`answered_as`: the
    emergency answer again, for "hes alone at his flat right now" placed on a topic), else the action's own."""
    metadata = bot_event.get("metadata") or {}
    return str(metadata.get("answered_as") or metadata.get("utter_action") or "")


def previous_crisis_answer(events_newest_first: Iterable[Dict[str, Any]]) -> Optional[Tuple[str, float, str]]:
    """The emergency answer, "is this happening right now?" (utter_safety_check_*) or the acknowledgement the previous
    turn gave, with this turn's message confidence and text; None when the previous turn gave none of them."""
    start = acknowledgement()[:40]
    user_seen, confidence, text = False, 1.0, ""
    for event in events_newest_first:
        if event.get("event") == "user":
            if user_seen:
                return None
            user_seen, text = True, event.get("text") or ""
            confidence = float(((event.get("parse_data") or {}).get("intent") or {}).get("confidence", 1.0))
        elif event.get("event") == "bot" and user_seen:  # the previous turn's answers, last first
            previous = answered(event)
            if previous.startswith(("utter_emergency_", "utter_safety_check_")):
                return previous, confidence, text
            if (event.get("text") or "").startswith(start):
                return HELP_ON_THE_WAY, confidence, text
    return None


def emergency_answers_in_a_row(events_newest_first: Iterable[Dict[str, Any]]) -> int:
    """How many turns in a row, up to the previous one, gave an emergency answer (utter_emergency_*)."""
    count, user_seen, this_turn = 0, False, False
    for event in events_newest_first:
        if event.get("event") == "user":
            if user_seen and not this_turn:
                return count
            user_seen, this_turn = True, False
        elif event.get("event") == "bot" and user_seen and not this_turn:
            if answered(event).startswith("utter_emergency_"):
                count, this_turn = count + 1, True
    return count
