"""The dialogue policies' states of a conversation on a bounded window, kept up to date as events arrive.

Rasa 3.6 builds the states of a conversation (`DialogueStateTracker.past_states` ->
`Domain.states_for_tracker_history`) by replaying every event of the conversation into a new tracker and computing a
state before every action, at every prediction: RulePolicy twice per prediction, MemoizationPolicy once, 2-4
predictions per turn. The cost of a turn therefore grew with the length of the conversation.

Here (patch `bounded_states` in config/patches.yml):

- The replay is a fold kept on the tracker: the tracker it replays into, the states computed so far and the two
  values Rasa's loop carries from one state to the next. When events have only been appended since the last call,
  only those are replayed. Events after which Rasa's `applied_events()` is not "the earlier events plus these"
  (a restart, a new session, a rewind, a form's loop) start the fold again from `applied_events()`; a conversation
  with an active loop (form) gets Rasa's own code every time.
- A policy gets only the states it can look at: MemoizationPolicy its `max_history`, RulePolicy as many as its
  longest rule (beyond that every rule applies: RulePolicy._is_rule_applicable), other policies everything. The
  window counts states that are not `action_unlikely_intent`, which the ML policies drop before slicing.
- Each state is a fresh copy (the featurizers change the states they get).

Slots and loops set at any time are right: the replay tracker has applied every event. The first state of the
conversation (a rule with `conversation_start: true` matches only there) is in the window whenever the conversation
is no longer than the window, as in Rasa. tests/test_bounded_states.py compares the states and the predicted actions
with Rasa's code.
"""

from __future__ import annotations

from contextvars import ContextVar
from itertools import islice
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa.core.featurizers.tracker_featurizers import _is_prev_action_unlikely_intent_in_state
from rasa.core.policies.memoization import MemoizationPolicy
from rasa.core.policies.policy import Policy
from rasa.core.policies.rule_policy import RULES, RULES_FOR_LOOP_UNHAPPY_PATH, RulePolicy
from rasa.shared.core.constants import PREVIOUS_ACTION
from rasa.shared.core.domain import Domain, State
from rasa.shared.core.events import (
    ActionExecuted,
    ActionReverted,
    ActiveLoop,
    Restarted,
    SessionStarted,
    UserUtteranceReverted,
)
from rasa.shared.core.trackers import DialogueStateTracker

rasa_past_states = DialogueStateTracker.past_states
rasa_prediction_states = Policy._prediction_states
_rasa_rule_key_to_state = RulePolicy.__dict__["_rule_key_to_state"].__func__

FOLDS = "_family_state_folds"  # on a tracker: {settings: _Fold}, or None once a form's loop was seen
WINDOW = "_family_states_window"  # on a policy: how many states it looks at
# after these, Rasa's applied_events() drops or rewinds earlier events: the fold starts again
_RESTARTING = (Restarted, SessionStarted, ActionReverted, UserUtteranceReverted)
_window: ContextVar[Optional[int]] = ContextVar("family_states_window", default=None)


class _Fold:
    """Domain.states_for_tracker_history's loop, continued event by event."""

    def __init__(self, tracker: DialogueStateTracker, domain: Domain, settings: Tuple[Any, ...]) -> None:
        self.domain = domain
        self.omit_unset_slots, self.ignore_rule_only_turns, self.rule_only_data = settings[:3]
        self.replay = tracker.init_copy()
        self.states: List[State] = []
        self.last_ml_action: Optional[Dict[Text, Any]] = None
        self.hidden = False
        self.events = tracker.events
        for event in tracker.applied_events():
            self._apply(event)
        self.consumed = len(tracker.events)
        self._last_event = tracker.events[-1] if tracker.events else None

    def follows(self, tracker: DialogueStateTracker) -> bool:
        """The tracker's events are the ones folded so far plus appended ones."""
        return (
            tracker.events is self.events
            and len(tracker.events) >= self.consumed
            and (self.consumed == 0 or tracker.events[self.consumed - 1] is self.last_event)
        )

    def extend(self, tracker: DialogueStateTracker) -> bool:
        """Fold the appended events; False when one of them needs Rasa's applied_events() (start again)."""
        new = list(islice(tracker.events, self.consumed, None))
        if any(isinstance(event, _RESTARTING) or (isinstance(event, ActiveLoop) and event.name) for event in new):
            return False
        for event in new:
            self._apply(event)
        self.consumed = len(tracker.events)
        self._last_event = tracker.events[-1] if tracker.events else None
        return True

    @property
    def last_event(self) -> Any:
        return self._last_event

    def _apply(self, event: Any) -> None:
        if isinstance(event, ActionExecuted):
            state, self.last_ml_action, self.hidden = self._state(event.hide_rule_turn)
            if state is not None:
                self.states.append(state)
        self.replay.update(event)

    def _state(self, hide_rule_turn: bool) -> Tuple[Optional[State], Optional[Dict[Text, Any]], bool]:
        """One iteration of Rasa's loop on the replay tracker as it is now: (the state or None, the carried values)."""
        tracker, domain = self.replay, self.domain
        last_ml_action, hidden = self.last_ml_action, self.hidden
        if self.ignore_rule_only_turns:
            if not hidden:
                last_ml_action = domain._get_prev_action_sub_state(tracker)
            if not tracker.followup_action and not tracker.latest_action_name == tracker.active_loop_name:
                hidden = hide_rule_turn
            if hidden:
                return None, last_ml_action, hidden
        state = domain.get_active_state(tracker, omit_unset_slots=self.omit_unset_slots)
        if self.ignore_rule_only_turns:
            domain._remove_rule_only_features(state, self.rule_only_data)
            if self.states:
                domain._substitute_rule_only_user_input(state, self.states[-1])
            if last_ml_action:
                state[PREVIOUS_ACTION] = last_ml_action
        return domain._clean_state(state), last_ml_action, hidden

    def last(self, window: int) -> List[State]:
        """The last states, as many as hold `window` states that are not action_unlikely_intent (or all), copied."""
        final, _, _ = self._state(False)  # the state after the last event (Rasa's last yield)
        states = self.states + ([final] if final is not None else [])
        start, counted = len(states), 0
        while start > 0 and counted < window:
            start -= 1
            counted += not _is_prev_action_unlikely_intent_in_state(states[start])
        return [{key: dict(sub_state) for key, sub_state in state.items()} for state in states[start:]]


def _settings(omit_unset_slots: bool, ignore_rule_only_turns: bool, rule_only_data: Optional[Dict[Text, Any]]
              ) -> Tuple[Any, ...]:
    frozen = tuple(sorted((key, tuple(value)) for key, value in (rule_only_data or {}).items()))
    return omit_unset_slots, ignore_rule_only_turns, rule_only_data, frozen


def past_states(
    self: DialogueStateTracker,
    domain: Domain,
    omit_unset_slots: bool = False,
    ignore_rule_only_turns: bool = False,
    rule_only_data: Optional[Dict[Text, Any]] = None,
) -> List[State]:
    """DialogueStateTracker.past_states; inside a policy's prediction, only the window that policy looks at."""
    window = _window.get()
    folds = self.__dict__.get(FOLDS, {})
    if window is None or folds is None or self._max_event_history is not None:
        return rasa_past_states(self, domain, omit_unset_slots, ignore_rule_only_turns, rule_only_data)
    settings = _settings(omit_unset_slots, ignore_rule_only_turns, rule_only_data)
    key = (id(domain), settings[0], settings[1], settings[3])
    fold = folds.get(key)
    if fold is None or fold.domain is not domain or not fold.follows(self) or not fold.extend(self):
        if any(isinstance(event, ActiveLoop) and event.name for event in self.events):
            self.__dict__[FOLDS] = None  # a form: Rasa's applied_events() may undo the loop's turns
            return rasa_past_states(self, domain, omit_unset_slots, ignore_rule_only_turns, rule_only_data)
        fold = folds[key] = _Fold(self, domain, settings)
        self.__dict__[FOLDS] = folds
    return fold.last(window)


def window_of(policy: Policy) -> Optional[int]:
    """How many states (not counting action_unlikely_intent) the policy's prediction can depend on; None: all."""
    if WINDOW not in policy.__dict__:
        window: Optional[int] = None
        if isinstance(policy, RulePolicy):
            keys = [*policy.lookup.get(RULES, {}), *policy.lookup.get(RULES_FOR_LOOP_UNHAPPY_PATH, {})]
            window = max((len(_rasa_rule_key_to_state(key)) for key in keys), default=0) + 1
        elif isinstance(policy, MemoizationPolicy):
            window = getattr(policy.featurizer, "max_history", None)
        policy.__dict__[WINDOW] = window
    return policy.__dict__[WINDOW]


def prediction_states(
    self: Policy,
    tracker: DialogueStateTracker,
    domain: Domain,
    use_text_for_last_user_input: bool = False,
    rule_only_data: Optional[Dict[Text, Any]] = None,
) -> List[State]:
    """Policy._prediction_states with the policy's window in effect for tracker.past_states."""
    token = _window.set(window_of(self))
    try:
        return rasa_prediction_states(self, tracker, domain, use_text_for_last_user_input, rule_only_data)
    finally:
        _window.reset(token)
