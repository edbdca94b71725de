"""Rasa NLG (endpoints.yml `nlg: type: bot.rasa.nlg.SafetyNoteNLG`): domain responses, plus one closing line.

When the safety net decided that danger is mentioned but not happening now (parse data "safety", outcome not_now),
the first answer of the turn ends with "If this is happening right now, call 911" (and 988 for self-harm words),
worded in config/safety.yml (`notes`). An answer that already gives 911 keeps
its own words. A generator, not a rule, because the note belongs after whichever topic the classifier chose.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Text

from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot.core.safety import MEDICAL, SafetyNet


class SafetyNoteNLG(TemplatedNaturalLanguageGenerator):
    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, domain: Optional[Domain] = None) -> None:
        super().__init__((domain or Domain.empty()).responses)

    async def generate(
        self, utter_action: Text, tracker: DialogueStateTracker, output_channel: Text, **kwargs: Any
    ) -> Optional[Dict[Text, Any]]:
        response = await super().generate(utter_action, tracker, output_channel, **kwargs)
        if not utter_action.startswith("utter_ask_") or utter_action == "utter_ask_topics":
            return response  # the line closes an information answer, not a menu or a question
        note = self._note(tracker)
        if response and note and response.get("text") and "911" not in response["text"]:
            response = {**response, "text": f"{response['text']}\n\n{note}"}
        return response

    def _note(self, tracker: DialogueStateTracker) -> Optional[str]:
        """The closing line this turn needs, if this is the turn's first answer and the message was "not now"."""
        for event in reversed(tracker.events):
            if isinstance(event, BotUttered):
                return None  # the turn's first answer already carried it
            if isinstance(event, UserUttered):
                safety = (event.parse_data or {}).get("safety") or {}
                if safety.get("outcome") != "not_now":
                    return None
                return SafetyNet.from_settings().notes[MEDICAL if safety.get("kind") == MEDICAL else "self_harm"]
        return None
