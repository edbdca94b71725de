"""The patches of bot/rasa_patches.py behave exactly as the Rasa code they replace."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
from jsonschema import ValidationError, validate
from rasa.core.actions.action import RemoteAction
from rasa.core.policies.rule_policy import RulePolicy
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.shared.core.events import ActionExecuted, Event, SlotSet, UserUttered
from rasa.shared.utils.common import all_subclasses

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


def test_event_classes_resolve_as_in_rasa() -> None:
    rasa_patches.install()
    assert Event.resolve_by_type is not rasa_patches._rasa_resolve_by_type
    for cls in all_subclasses(Event):
        expected = rasa_patches._rasa_resolve_by_type(cls.type_name)
        assert Event.resolve_by_type(cls.type_name) is expected
        assert Event.resolve_by_type(cls.type_name) is expected  # from the cache
    assert Event.resolve_by_type("topic") is None
    assert Event.resolve_by_type("no-such-event", default=SlotSet) is SlotSet
    with pytest.raises(ValueError, match="Unknown event name 'no-such-event'"):
        Event.resolve_by_type("no-such-event", None)


def test_stored_events_come_back_as_the_same_events() -> None:
    rasa_patches.install()
    events = [ActionExecuted("action_listen"), UserUttered("what is dbt", {"name": "ask_dbt", "confidence": 0.9}),
              SlotSet("loved_one", "son")]
    assert [Event.from_parameters(event.as_dict()) for event in events] == events


def test_rule_keys_parse_as_in_rasa_and_once() -> None:
    rasa_patches.install()
    key = '[{"prev_action": {"action_name": "action_listen"}, "user": {"intent": "ask_dbt"}}]'
    assert RulePolicy._rule_key_to_state is not rasa_patches._rasa_rule_key_to_state
    parsed = RulePolicy._rule_key_to_state(key)
    assert parsed == rasa_patches._rasa_rule_key_to_state(key)
    assert RulePolicy._rule_key_to_state(key) is parsed


def test_the_model_gives_the_same_parses_and_answers_with_the_patches_as_with_rasas_code(model: Path) -> None:
    """Rasa's code (dask, RulePolicy, events) against the patched code, on the trained model, in one conversation
    each (long enough for RulePolicy to stop matching before the start of the conversation)."""
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    messages = ["hello", "what is dbt", "my son took all his pills and won't wake up", "she wants to die",
                "can I mix xanax with alcohol", "tell me more", "asdfgh qwerty", "how do I find a treatment center",
                "what are withdrawal symptoms", "she relapsed what now", "thanks", "are you a bot", "bye"]

    async def conversation(sender: str) -> List[Any]:
        parses = [await agent.parse_message(text) for text in messages]
        answers = [await agent.handle_text(text, sender_id=sender) for text in messages]
        return [parses, [[message.get("text") for message in answer or []] for answer in answers]]

    rasa_patches.uninstall()
    assert DaskGraphRunner.run is rasa_patches._dask_run
    with_dask = asyncio.run(conversation("with-dask"))
    rasa_patches.install()
    assert DaskGraphRunner.run is rasa_patches._run_in_order
    assert RulePolicy._get_possible_keys is rasa_patches._get_possible_keys
    without = asyncio.run(conversation("without-dask"))
    assert without == with_dask
    assert any("911" in text for answer in without[1] for text in answer)
