"""Rasa's SQL tracker store, with personal data redacted from user messages before they are written.

The NLU and the policies work on the original text during the turn; only what is stored is redacted.
"""

from __future__ import annotations

from typing import Any, Iterator

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.privacy import redact


class RedactingSQLTrackerStore(SQLTrackerStore):
    def _additional_events(self, session: Any, tracker: DialogueStateTracker) -> Iterator[Event]:
        for event in super()._additional_events(session, tracker):
            yield _redacted(event)


def _redacted(event: Event) -> Event:
    if not isinstance(event, UserUttered) or not event.text:
        return event
    clean = redact(event.text)
    if clean == event.text:
        return event
    parse_data = dict(event.parse_data or {})
    parse_data["text"] = clean
    return UserUttered(
        text=clean,
        intent=event.intent,
        entities=event.entities,
        parse_data=parse_data,
        timestamp=event.timestamp,
        input_channel=event.input_channel,
        message_id=event.message_id,
        metadata=event.metadata,
    )
