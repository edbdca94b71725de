"""The policies' bounded, incrementally kept states (bot/rasa/bounded_states.py, patch `bounded_states`) are Rasa's
own: the last states of `Domain.states_for_tracker_history`, event after event, whatever the events (slots set early,
new sessions, rewinds, restarts, rule-only turns, forms); and the trained model predicts the same actions and gives
the same answers over a long conversation as with Rasa's code."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
from rasa.core.policies.memoization import MemoizationPolicy
from rasa.core.policies.policy import Policy
from rasa.core.policies.rule_policy import RulePolicy
from rasa.shared.core.constants import RULE_ONLY_LOOPS, RULE_ONLY_SLOTS
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActionReverted,
    ActiveLoop,
    BotUttered,
    Event,
    FollowupAction,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot.rasa import bounded_states, patches
from tests.test_rasa_patches import ALL_OFF

DOMAIN = Domain.from_yaml(
    """
version: "3.1"
intents: [greet, ask, emergency, affirm]
entities: [person]
slots:
  person:
    type: text
    influence_conversation: true
    mappings: [{type: from_entity, entity: person}]
  level:
    type: categorical
    values: [low, high]
    influence_conversation: true
    mappings: [{type: custom}]
  quiet:
    type: bool
    influence_conversation: false
    mappings: [{type: custom}]
forms:
  a_form:
    required_slots: [person]
responses:
  utter_a: [{text: a}]
  utter_b: [{text: b}]
actions: [action_check]
"""
)
RULE_ONLY = {RULE_ONLY_SLOTS: ["level"], RULE_ONLY_LOOPS: []}


def user(intent: str, person: Optional[str] = None) -> UserUttered:
    entities = [{"entity": "person", "value": person, "start": 0, "end": 3}] if person else []
    return UserUttered(f"text for {intent}", {"name": intent, "confidence": 0.9}, entities)


def conversation(rng: random.Random, turns: int, rewinds: bool) -> List[Event]:
    """A random conversation: slots set in the first turn, hidden rule turns, follow-ups, and (if `rewinds`)
    new sessions, restarts and rewinds."""
    events: List[Event] = [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen"),
                           user("greet", "son"), SlotSet("person", "son"), SlotSet("level", "high"),
                           ActionExecuted("utter_a"), BotUttered("a"), ActionExecuted("action_listen")]
    for _ in range(turns):
        events.append(user(rng.choice(["ask", "emergency", "affirm", "greet"])))
        if rng.random() < 0.2:
            events.append(SlotSet(rng.choice(["level", "quiet"]), rng.choice(["low", "high", True])))
        if rng.random() < 0.2:
            events.append(FollowupAction("utter_b"))
        events.append(ActionExecuted(rng.choice(["utter_a", "action_check"]), hide_rule_turn=rng.random() < 0.3))
        if rng.random() < 0.3:
            events.append(ActionExecuted("utter_b", hide_rule_turn=rng.random() < 0.5))
        events.append(BotUttered("b"))
        if rewinds and rng.random() < 0.1:
            events.append(rng.choice([UserUtteranceReverted(), ActionReverted(), Restarted()]))
        if rewinds and rng.random() < 0.05:
            events += [ActionExecuted("action_session_start"), SessionStarted(), SlotSet("person", "son")]
        events.append(ActionExecuted("action_listen"))
    return events


def states_both_ways(tracker: DialogueStateTracker, window: int, **settings: Any) -> List[List[Any]]:
    """(ours in the window, Rasa's over the whole conversation)."""
    token = bounded_states._window.set(window)
    try:
        ours = bounded_states.past_states(tracker, DOMAIN, **settings)
    finally:
        bounded_states._window.reset(token)
    return [ours, bounded_states.rasa_past_states(tracker, DOMAIN, **settings)]


SETTINGS = [
    {},
    {"ignore_rule_only_turns": True, "rule_only_data": RULE_ONLY},
    {"omit_unset_slots": True},
]


@pytest.mark.parametrize("rewinds", [False, True])
@pytest.mark.parametrize("settings", SETTINGS)
@pytest.mark.parametrize("window", [1, 4, 9])
def test_the_window_is_the_end_of_rasas_states_after_every_event(
    settings: Dict[str, Any], window: int, rewinds: bool
) -> None:
    """The tracker grows event by event, as in a turn; after each event the kept states end like Rasa's and hold
    the window (or every state when there are fewer), with the slots set in the first turn."""
    for seed in range(4):
        events = conversation(random.Random(seed), 25, rewinds)
        tracker = DialogueStateTracker("t", DOMAIN.slots)
        for event in events:
            tracker.update(event)
            ours, rasa_states = states_both_ways(tracker, window, **settings)
            assert ours == rasa_states[-len(ours):]
            assert len(ours) >= min(window, len(rasa_states))
        assert bounded_states.FOLDS in tracker.__dict__  # the fold was kept and continued, not Rasa's code
        assert any("person" in state.get("slots", {}) for state in ours) or settings.get("omit_unset_slots")


def test_the_states_handed_out_are_copies() -> None:
    """The featurizers delete keys from the states they get: the kept states must not change with them."""
    tracker = DialogueStateTracker.from_events("t", conversation(random.Random(1), 5, False), DOMAIN.slots)
    first, _ = states_both_ways(tracker, 4)
    for state in first:
        state.pop("user", None)
        state.get("prev_action", {}).clear()
    again, rasa_states = states_both_ways(tracker, 4)
    assert again == rasa_states[-len(again):] and again != first


def test_a_form_gets_rasas_own_code() -> None:
    """With an active loop Rasa's applied_events() may undo the loop's turns: the tracker gets Rasa's states."""
    events = conversation(random.Random(2), 3, False)
    events += [user("ask"), ActionExecuted("a_form"), ActiveLoop("a_form"), SlotSet("requested_slot", "person"),
               ActionExecuted("action_listen"), user("greet", "son"), ActionExecuted("a_form")]
    tracker = DialogueStateTracker("t", DOMAIN.slots)
    for event in events:
        tracker.update(event)
        ours, rasa_states = states_both_ways(tracker, 2)
        assert ours == rasa_states[-len(ours):]
    assert tracker.__dict__[bounded_states.FOLDS] is None
    assert ours == rasa_states  # Rasa's whole list


def test_the_first_state_of_a_short_conversation_is_in_the_window() -> None:
    """A rule with conversation_start: true matches the conversation's first state, which has no previous action:
    while the conversation is no longer than the window, the window starts there, as Rasa's states do."""
    tracker = DialogueStateTracker.from_events("t", [ActionExecuted("action_listen"), user("greet")], DOMAIN.slots)
    ours, rasa_states = states_both_ways(tracker, 5)
    assert ours == rasa_states and "prev_action" not in ours[0]


def test_each_policy_gets_the_window_it_looks_at(tmp_path: Path) -> None:
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource

    made = [LocalModelStorage(tmp_path), Resource("policy"), ExecutionContext(GraphSchema({}), "test")]
    memo = MemoizationPolicy({**MemoizationPolicy.get_default_config(), "max_history": 4}, *made)
    assert bounded_states.window_of(memo) == 4
    rules = RulePolicy(RulePolicy.get_default_config(), *made)
    rules.lookup = {"rules": {'[{"prev_action": {"action_name": "action_listen"}}, {"user": {"intent": "a"}}]': "x"},
                    "rules_for_loop_unhappy_path": {}}
    assert bounded_states.window_of(rules) == 3  # the longest rule, and one more
    from rasa.core.policies.unexpected_intent_policy import UnexpecTEDIntentPolicy

    assert bounded_states.window_of(object.__new__(UnexpecTEDIntentPolicy)) is None  # an ML policy: every state


def test_the_patch_switches_both_functions(model: Path) -> None:
    with patches.patched({**ALL_OFF, "bounded_states": True}):
        assert DialogueStateTracker.past_states is bounded_states.past_states
        assert Policy._prediction_states is bounded_states.prediction_states
    assert DialogueStateTracker.past_states is bounded_states.rasa_past_states


# The first turn sets both slots; later turns are questions, small talk and emergencies.
LONG = ["my son takes xanax every day", "what is dbt", "how do I find a treatment center",
        "what are withdrawal symptoms", "tell me more", "thanks", "can I mix xanax with alcohol",
        "she relapsed what now", "asdfgh qwerty",
        "are you a bot", "my son took all his pills and won't wake up", "what is tapering", "is that safe?", "hello",
        "how can I talk to him about it", "support for families", "what happens after detox", "she wants to die",
        "what is cbt", "bye"]


def test_a_long_conversation_gets_the_same_actions_and_answers_as_with_rasas_code(model: Path, tmp_path: Path) -> None:
    """60 turns, slots set in the first: every predicted action (name, policy, confidence) and every answer are the
    same with the patches and the project's tracker store with its cache as with Rasa's code and Rasa's SQL tracker
    store (both on SQLite)."""
    from rasa.core.agent import Agent
    from rasa.core.tracker_store import SQLTrackerStore

    from bot.rasa.tracker_store import RedactingSQLTrackerStore

    messages = (LONG * 3)[:60]
    kept: List[bool] = []

    def run(store: Any) -> List[Any]:
        agent = Agent.load(str(model), tracker_store=store)

        async def talk() -> List[Any]:
            turns = [[answer.get("text") for answer in await agent.handle_text(text, sender_id="long") or []]
                     for text in messages]
            tracker = await agent.tracker_store.retrieve("long")
            actions = [(e.action_name, e.policy, e.confidence) for e in tracker.events if isinstance(e, ActionExecuted)]
            kept.append(bounded_states.FOLDS in tracker.__dict__)  # the tracker of the last turn, not a new read
            return [turns, actions, tracker.slots["loved_one"].value, tracker.slots["medication"].value]

        return asyncio.run(talk())

    with patches.patched(ALL_OFF):
        rasa_run = run(SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(tmp_path / "rasa.db")))
    store = RedactingSQLTrackerStore(domain=Domain.empty(), dialect="sqlite", db=str(tmp_path / "t.db"),
                                     cached_conversations=10)
    with patches.patched() as names:
        assert "bounded_states" in names
        ours = run(store)
    assert kept == [False, True]
    assert ours == rasa_run
    turns, actions, loved_one, medication = ours
    assert len(actions) > 120 and (loved_one, medication) == ("son", "alprazolam")
    assert sum("911" in " ".join(answers) and "your son" in " ".join(answers) for answers in turns) >= 3
