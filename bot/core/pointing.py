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


def only_points_back(text: str, follow: Dict[str, Any]) -> bool:
    """A pointing message with no word of its own subject: every word is a pointer or a function word
    (`function_words`), so "is that normal?" or "what do they actually do in it" can only be about the last topic,
    while "what should I say to him" (say) or "what about teenagers" (teenagers) bring their own."""
    if not points_back(text, follow):
        return False
    function = set(follow.get("function_words") or ())
    return all(word in function for word in words(text))
