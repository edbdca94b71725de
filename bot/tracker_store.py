"""Rasa's SQL tracker store, with personal data redacted from what families typed before it is written.

The NLU and the policies work on the original text during the turn; only what is stored is redacted: the user
message's text and its whole parse data (text, entities, the safety net's matched phrase, ...) and metadata, the
values of slots (filled from entities) and of added entities. Bot messages are stored as they were sent.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import EntitiesAdded, Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.privacy import redact_all


class RedactingSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore that never writes a phone number, e-mail or street address a family typed."""

    def _additional_events(self, session: Any, tracker: DialogueStateTracker) -> Iterator[Event]:
        for event in super()._additional_events(session, tracker):
            yield redacted(event)


def redacted(event: Event) -> Event:
    """A redacted copy of the event (the tracker's own event is left as it is)."""
    if isinstance(event, UserUttered):
        clean = copy.deepcopy(event)
        clean.text = redact_all(event.text)
        clean.entities = redact_all(event.entities)
        clean.parse_data = redact_all(event.parse_data)
        clean.metadata = redact_all(event.metadata)
        return clean
    if isinstance(event, SlotSet) and isinstance(event.value, (str, list, dict)):
        clean = copy.deepcopy(event)
        clean.value = redact_all(event.value)
        return clean
    if isinstance(event, EntitiesAdded):
        clean = copy.deepcopy(event)
        clean.entities = redact_all(event.entities)
        return clean
    return event
