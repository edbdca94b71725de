"""The patches of bot/rasa/patches.py behave exactly as the Rasa code they replace; they are installed only on the
pinned Rasa version, each as config/patches.yml switches it, and every test puts Rasa's code back afterwards."""

from __future__ import annotations

import asyncio
import logging
import re
import sys
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest
import rasa
from jsonschema import ValidationError, validate
from rasa.core.actions.action import RemoteAction
from rasa.core.policies.rule_policy import RulePolicy
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.shared.core.events import ActionExecuted, Event, SlotSet, UserUttered
from rasa.shared.utils.common import all_subclasses

from bot.core.settings import load_yaml
from bot.rasa import cli, patches
from tests.servers import ROOT, Service

RESPONSES = [
    {"events": [], "responses": [{"text": "hi"}]},
    {"events": [{"event": "slot", "name": "loved_one", "value": "son"}], "responses": []},
    {},
    {"events": "nope"},
    {"events": [{"event": "no-such-event"}]},
    {"responses": "text"},
    [],
]


ALL_OFF = {name: False for name in patches.PATCHES}


@pytest.fixture
def patched() -> Iterator[List[str]]:
    """The configured patches for one test, then Rasa's code back."""
    with patches.patched() as names:
        yield names


def rasa_verdict(result: Any) -> Optional[str]:
    try:
        validate(result, RemoteAction.action_response_format_spec())
        return None
    except ValidationError as error:
        return error.message


@pytest.mark.parametrize("result", RESPONSES)
def test_same_verdict_as_rasa(result: Dict[str, Any], patched: List[str]) -> None:
    assert RemoteAction._validate_action_result is patches._validate_action_result
    expected = rasa_verdict(result)
    if expected is None:
        assert RemoteAction("action_x", None)._validate_action_result(result) is True
    else:
        with pytest.raises(ValidationError) as raised:
            RemoteAction("action_x", None)._validate_action_result(result)
        assert raised.value.message.startswith(expected + ". Failed to validate Action server response")


def test_event_classes_resolve_as_in_rasa(patched: List[str]) -> None:
    assert Event.resolve_by_type is not patches._rasa_resolve_by_type
    for cls in all_subclasses(Event):
        expected = patches._rasa_resolve_by_type(cls.type_name)
        assert Event.resolve_by_type(cls.type_name) is expected
        assert Event.resolve_by_type(cls.type_name) is expected  # from the cache
    assert Event.resolve_by_type("topic") is None
    assert Event.resolve_by_type("no-such-event", default=SlotSet) is SlotSet
    with pytest.raises(ValueError, match="Unknown event name 'no-such-event'"):
        Event.resolve_by_type("no-such-event", None)


def test_stored_events_come_back_as_the_same_events(patched: List[str]) -> None:
    events = [ActionExecuted("action_listen"), UserUttered("what is dbt", {"name": "ask_dbt", "confidence": 0.9}),
              SlotSet("loved_one", "son")]
    assert [Event.from_parameters(event.as_dict()) for event in events] == events


def test_rule_keys_parse_as_in_rasa_and_once(patched: List[str]) -> None:
    key = '[{"prev_action": {"action_name": "action_listen"}, "user": {"intent": "ask_dbt"}}]'
    assert RulePolicy._rule_key_to_state is not patches._rasa_rule_key_to_state
    parsed = RulePolicy._rule_key_to_state(key)
    assert parsed == patches._rasa_rule_key_to_state(key)
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

    with patches.patched(ALL_OFF):
        assert DaskGraphRunner.run is patches._dask_run
        with_dask = asyncio.run(conversation("with-dask"))
    with patches.patched():
        assert DaskGraphRunner.run is patches._run_in_order
        assert RulePolicy._get_possible_keys is patches._get_possible_keys
        without = asyncio.run(conversation("without-dask"))
    assert without == with_dask
    assert any("911" in text for answer in without[1] for text in answer)


def test_rule_matching_gives_rasas_rules_for_every_state_of_a_conversation(model: Path) -> None:
    """The patched RulePolicy._get_possible_keys (longest rule, rules of the current state remembered) against
    Rasa's, on the trained model's rules, for every prefix of a real conversation's states, twice (the second time
    from what was remembered)."""
    from rasa.core.agent import Agent
    from rasa.core.policies.rule_policy import RULES, RULES_FOR_LOOP_UNHAPPY_PATH
    from rasa.shared.core.trackers import DialogueStateTracker

    agent = Agent.load(str(model))
    [policy] = [node._component for node in agent.processor.graph_runner._instantiated_nodes.values()
                if isinstance(node._component, RulePolicy)]

    async def talk() -> Any:
        for text in ["hello", "what is dbt", "she wants to die", "tell me more", "asdf", "thanks", "bye"]:
            await agent.handle_text(text, sender_id="rules")
        return await agent.tracker_store.retrieve("rules")

    with patches.patched(ALL_OFF):
        tracker = asyncio.run(talk())
        states = DialogueStateTracker.past_states(tracker, agent.domain)
    assert len(states) > 10
    compared = 0
    for lookup in (policy.lookup[RULES], policy.lookup.get(RULES_FOR_LOOP_UNHAPPY_PATH, {})):
        for _ in range(2):
            for end in range(1, len(states) + 1):
                expected = patches._rasa_get_possible_keys(policy, lookup, states[:end])
                assert patches._get_possible_keys(policy, lookup, states[:end]) == expected
                compared += bool(expected)
    assert compared > 10  # rules did match


# ------------------------------------------------------------------------------------ installing, guarded
def test_the_pinned_rasa_is_the_locked_one_and_the_installed_one() -> None:
    lock = (ROOT / "requirements.lock").read_text()
    pinned = str(load_yaml(patches.CONFIG)["rasa_version"])
    assert re.search(rf"^rasa=={re.escape(pinned)}$", lock, re.MULTILINE)
    assert rasa.__version__ == pinned
    patches.check_rasa_version()


@pytest.mark.parametrize("version", ["3.6.20", "3.7.0", "3.6.21rc1", "3.6.2"])
def test_any_other_rasa_version_is_refused_and_nothing_is_patched(
    monkeypatch: pytest.MonkeyPatch, version: str
) -> None:
    with pytest.raises(patches.RasaVersionError, match=f"Rasa {re.escape(version)} is installed"):
        patches.check_rasa_version(version)
    monkeypatch.setattr(rasa, "__version__", version)
    with pytest.raises(patches.RasaVersionError):
        patches.install()
    assert patches.installed() == []


def test_the_entry_refuses_another_rasa_before_rasa_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    import rasa.__main__

    started: List[str] = []
    monkeypatch.setattr(rasa.__main__, "main", lambda: started.append("rasa"))
    monkeypatch.setattr(sys, "argv", ["bot.rasa.cli", "--version"])
    monkeypatch.setattr(rasa, "__version__", "3.7.0")
    with pytest.raises(patches.RasaVersionError):
        cli.main()
    assert started == [] and patches.installed() == []


def test_the_entry_installs_the_configured_patches_then_runs_rasa(monkeypatch: pytest.MonkeyPatch) -> None:
    import rasa.__main__

    seen: List[List[str]] = []
    monkeypatch.setattr(rasa.__main__, "main", lambda: seen.append(patches.installed()))
    monkeypatch.setattr(sys, "argv", ["bot.rasa.cli", "--version"])
    with patches.patched(ALL_OFF):  # puts back whatever the entry installs
        cli.main()
    configured = [name for name, on in load_yaml(patches.CONFIG)["patches"].items() if on]
    assert seen == [configured] and configured


@pytest.mark.parametrize("name", list(patches.PATCHES))
def test_each_patch_has_its_own_switch(name: str) -> None:
    with patches.patched({**ALL_OFF, name: True}) as names:
        assert names == patches.installed() == [name]
        for other, replacements in patches.PATCHES.items():
            for owner, attribute, ours, theirs in replacements:
                expected = ours if other == name else theirs
                assert vars(owner)[attribute] is expected


@pytest.mark.parametrize(
    "configured",
    [
        {name: True for name in list(patches.PATCHES)[1:]},  # one missing
        {**{name: True for name in patches.PATCHES}, "graph_in_ordre": False},  # a misspelt one
        {**{name: True for name in patches.PATCHES}, "rule_lookback": "yes"},  # not a boolean
    ],
)
def test_a_switch_list_that_is_not_exactly_the_patches_is_refused(configured: Dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=patches.CONFIG):
        patches.install(configured)
    assert patches.installed() == []


def test_patched_puts_back_what_was_there_before() -> None:
    assert patches.installed() == []
    with patches.patched() as outer:
        with patches.patched(ALL_OFF):
            assert patches.installed() == []
        assert patches.installed() == outer
    assert patches.installed() == []
    assert DaskGraphRunner.run is patches._dask_run


def test_a_server_started_without_the_patches_says_so(caplog: pytest.LogCaptureFixture) -> None:
    """What the REST channel logs at start: the patches in place, or a warning naming those switched on but missing
    (a plain `rasa run` instead of python -m bot.rasa.cli run)."""
    caplog.set_level(logging.INFO, logger=patches.__name__)
    with patches.patched({**ALL_OFF, "graph_in_order": True}):
        caplog.clear()
        patches.log_state()
    [warning, tensorflow] = caplog.records
    assert tensorflow.getMessage() == "TensorFlow: loaded"  # this test process imported it
    assert warning.levelname == "WARNING"
    missing = "action_response_validator, event_class_cache, rule_key_cache, rule_lookback, bounded_states."
    assert f"not installed: {missing}" in warning.getMessage()
    assert "graph_in_order" not in warning.getMessage() and "python -m bot.rasa.cli run" in warning.getMessage()
    with patches.patched() as names:
        caplog.clear()
        patches.log_state()
    [info, _] = caplog.records
    assert info.levelname == "INFO" and info.getMessage() == f"Rasa patches in place: {', '.join(names)}"


@pytest.mark.servers
def test_the_rasa_server_runs_the_patched_code(rasa_server: Service) -> None:
    """The served path: the server was started through bot.rasa.cli, and its REST channel says so in the log."""
    log = rasa_server.log.read_text(errors="replace")
    configured = [name for name, on in load_yaml(patches.CONFIG)["patches"].items() if on]
    assert f"Rasa patches in place: {', '.join(configured)}" in log
    assert "not installed" not in log
    assert "TensorFlow: not loaded (the model has no TensorFlow component)" in log
