"""Which answer did the assistant give? Scoring whole conversations (tests/dialogues.yml) over HTTP.

A turn's answer key is found by matching the reply's first bubble against domain.yml's responses (up to the first
slot), so the dialogues are judged on what a family sees, not on internal intents. Keys are the topic names of the
contract and config/topics.yml, plus: not_covered (the honest "doesn't cover that"), asked ("is this happening right
now?"), help_on_the_way ("ok calling 911 now" acknowledged), clarify ("did you mean ...?"), rephrase; a "tell me more"
page that says which topic it continues ("More on Detox:") has that topic's key, and `more` (a page that does not say,
or "that's everything") continues the previous topic.
Used by `make eval` (tools.evaluate) and tests/test_dialogues.py.
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Tuple

from bot.core.content import titles
from bot.core.settings import load_yaml

# responses whose key is not simply the intent after "utter_"
SPECIAL = {
    "utter_ask_not_covered": "not_covered",
    "utter_safety_check_medical": "asked",
    "utter_safety_check_self_harm": "asked",
    "utter_safety_check_medical_es": "asked",
    "utter_safety_check_self_harm_es": "asked",
    "utter_emergency_both": "emergency_both",
    "utter_emergency_medical_es": "emergency_medical",
    "utter_emergency_self_harm_es": "emergency_self_harm",
    "utter_emergency_both_es": "emergency_both",
    "utter_topics": "ask_topics",
    "utter_ask_topics": "ask_topics",
}
PREFIX_CHARS = 200  # long enough to tell apart answers that open with the same source sentence


def _plain(text: str) -> str:
    return " ".join(text.replace("’", "'").split()).lower()


@functools.cache
def _prefixes() -> Tuple[Tuple[str, str], ...]:
    """(text prefix, key) for every domain response variation and the actions' own texts, longest first."""
    found = []
    for name, variations in load_yaml("domain.yml")["responses"].items():
        key = SPECIAL.get(name, name.removeprefix("utter_"))
        for variation in variations:
            prefix = _plain(variation.get("text", "").split("{")[0])[:PREFIX_CHARS]
            if prefix:
                found.append((prefix, key))
    followups = load_yaml("config/followups.yml")
    found.append((_plain(followups["clarify"]["text"])[:PREFIX_CHARS], "clarify"))
    found.append((_plain(followups["clarify"]["rephrase"])[:PREFIX_CHARS], "rephrase"))
    found.append((_plain(followups["help_on_the_way"])[:PREFIX_CHARS], "help_on_the_way"))
    for topic, title in titles().items():  # "More on Detox:": a page of source sentences on that topic
        found.append((_plain(followups["followup"]["intro"].format(topic=title)), topic))
    return tuple(sorted(found, key=lambda item: -len(item[0])))


def answer_key(messages: List[dict]) -> str:
    """The key of a turn's answer: its first bubble that is not a preamble."""
    after_check = _plain(load_yaml("config/followups.yml")["after_check"])
    texts = [_plain(m.get("text") or "") for m in messages if m.get("text")]
    texts = [t for t in texts if t != after_check]
    if not texts:
        return "none"
    for prefix, key in _prefixes():
        if texts[0].startswith(prefix):
            return key
    return "more"  # a page of source sentences from action_tell_more


def accepted(key: str, expected: List[str], previous: Optional[str]) -> bool:
    if key == "more":
        key = previous or "more"
    if key == "emergency_both":
        return bool({"emergency_medical", "emergency_self_harm", "emergency_both"} & set(expected))
    if key == "help_on_the_way":  # the acknowledgement after an emergency answer: it repeats 911 / 988
        return bool({"affirm", "thank", "goodbye", "emergency_medical", "emergency_self_harm"} & set(expected))
    if key == "asked":  # the question carries 911 and 988: right for an emergency, wrong for anything else
        return bool({"emergency_medical", "emergency_self_harm"} & set(expected))
    return key in expected


@dataclass
class Turn:
    dialogue: str
    text: str
    expected: List[str]
    key: str
    right: bool


def run(say: Callable[[str, str], List[dict]], path: str = "tests/dialogues.yml") -> List[Turn]:
    """Every conversation of the file, each as a new sender; `say(sender, text)` returns the bot's messages."""
    turns = []
    for dialogue in load_yaml(path)["dialogues"]:
        sender, previous = f"dialogue-{uuid.uuid4().hex[:10]}", None
        for turn in dialogue["turns"]:
            key = answer_key(say(sender, turn["user"]))
            right = accepted(key, turn["expect"], previous)
            turns.append(Turn(dialogue["name"], turn["user"], turn["expect"], key, right))
            previous = previous if key == "more" else key
    return turns


def summary(turns: List[Turn]) -> Dict[str, float]:
    n = len(turns)
    emergencies = {"emergency_medical", "emergency_self_harm", "emergency_both"}
    information = [t for t in turns if not {"emergency_medical", "emergency_self_harm"} & set(t.expected)]
    return {
        "turns": n,
        "turn_accuracy": sum(t.right for t in turns) / n,
        "asked_to_clarify": sum(t.key == "clarify" for t in turns) / n,
        "information_turns_answered_as_emergency": sum(t.key in emergencies for t in information),
        "information_turns_asked_if_happening_now": sum(t.key == "asked" for t in information),
    }
