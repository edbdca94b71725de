"""Messages that point back at the last answer ("is that safe?", "both??", "what do they actually do in it").

One reading for the NLU component that marks them (bot/rasa/followup_marker.py) and for action_clarify, which
answers them from the conversation's last topic (actions/actions.py). Settings: config/followups.yml `followup`.
Plain Python: the action server ships without Rasa.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List

from bot.core.settings import load_yaml


def settings() -> Dict[str, Any]:
    return load_yaml("config/followups.yml").get("followup") or {}


def words(text: str) -> List[str]:
    return re.findall(r"[a-z']+", text.lower().replace("’", "'"))


def points_back(text: str, follow: Dict[str, Any]) -> bool:
    """A short message with a word that points back at what was just said ("is that safe", "do they help")."""
    found = words(text)
    if not found or len(found) > int(follow.get("max_words", 10)):
        return False
    joined = f" {' '.join(found)} "
    return any(f" {pointer} " in joined for pointer in follow.get("pointers", ()))


def no_subject(text: str, follow: Dict[str, Any]) -> bool:
    """Two or more words (or one pointer or `alone` word: "both??", "how?"), every one a pointer or a function word
    (`function_words`): "so what now", "what can happen", "is that normal?" can only be about what was just said,
    while "what should I say to him" (say), "and for me?" (me) or "what about teenagers" bring their own subject."""
    found = words(text)
    function = set(follow.get("function_words") or ())
    # "both??", "how?", "why?" - not "ok" or "no"
    alone = len(found) == 1 and found[0] in {*(follow.get("pointers") or ()), *(follow.get("alone") or ())}
    return (len(found) >= 2 or alone) and all(word in function for word in found)


def asks_what_to_do(text: str) -> bool:
    """"What do we do now?", "so what should he do instead?": a question about the last answer's topic, even with a
    subject of its own (config/followups.yml `todo.pattern`)."""
    todo = load_yaml("config/followups.yml").get("todo") or {}
    return bool(re.search(str(todo.get("pattern") or r"(?!)"), text.lower().replace("’", "'").strip()))


def asks_about_cause(text: str, follow: Dict[str, Any]) -> bool:
    """"Could the ativan be doing that??", "is that him or the drug": whether what was just described comes from the
    pills (`followup.cause`), a question about the last answer whatever its other words."""
    return points_back(text, follow) and bool(re.search(str(follow.get("cause") or r"(?!)"), text.lower()))


def asks_about_efficacy(text: str, follow: Dict[str, Any]) -> bool:
    """"Does it actually work?", "do they help with the panic?" right after an answer: whether what it described works
    (`followup.efficacy`), a question about the last answer - not whether recovery is possible at all."""
    return points_back(text, follow) and bool(re.search(str(follow.get("efficacy") or r"(?!)"), text.lower()))


def only_asks_about_efficacy(text: str, follow: Dict[str, Any]) -> bool:
    """The same with nothing else in it ("does it actually work though", "whats the point of it"): every word a
    function word or one of `efficacy_words`, and not "how does it work" (what it is, not whether it works). Even a
    confident topic is then the last answer's (bot/rasa/followup_marker.py); "and groups, would that help her" or "does
    the CBT help with panic" name their own subject."""
    allowed = {*(follow.get("function_words") or ()), *(follow.get("efficacy_words") or ())}
    found = words(text)
    return (asks_about_efficacy(text, follow) and all(word in allowed for word in found)
            and not re.search(r"\bhow (?:does|do|would|will|did|is|are)\b", text.lower()))


def about_the_assistant(text: str) -> bool:
    """Addressed to the assistant ("what can you do?"): a question for the topic menu, not about the last answer."""
    return bool({"you", "u", "your", "ya"} & set(words(text)))
