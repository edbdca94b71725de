"""The cached action-response validator accepts and refuses exactly what Rasa's own validation does."""

from __future__ import annotations

from typing import Any, Dict, Optional

import pytest
from jsonschema import ValidationError, validate
from rasa.core.actions.action import RemoteAction

from bot import rasa_patches

RESPONSES = [
    {"events": [], "responses": [{"text": "hi"}]},
    {"events": [{"event": "slot", "name": "loved_one", "value": "son"}], "responses": []},
    {},
    {"events": "nope"},
    {"events": [{"event": "no-such-event"}]},
    {"responses": "text"},
    [],
]


def rasa_verdict(result: Any) -> Optional[str]:
    try:
        validate(result, RemoteAction.action_response_format_spec())
        return None
    except ValidationError as error:
        return error.message


@pytest.mark.parametrize("result", RESPONSES)
def test_same_verdict_as_rasa(result: Dict[str, Any]) -> None:
    rasa_patches.install()
    expected = rasa_verdict(result)
    if expected is None:
        assert RemoteAction("action_x", None)._validate_action_result(result) is True
    else:
        with pytest.raises(ValidationError) as raised:
            RemoteAction("action_x", None)._validate_action_result(result)
        assert raised.value.message.startswith(expected + ". Failed to validate Action server response")
