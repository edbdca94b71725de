"""Measured speed-ups of Rasa 3.6 internals, installed explicitly by every entry that runs the model: the Rasa server
and `make shell` (python -m bot.rasa.cli), `make eval` (tools.evaluate) and the tests (a fixture that undoes them).
config/patches.yml switches each one on or off and names the one Rasa version they were checked against: install()
refuses any other (they replace private Rasa code, which may change in any release).

- Rasa validates every action server response with ``jsonschema.validate``, which checks the schema itself before
  every validation: about a fifth of a turn's CPU under load (README, "Where the time goes"). Here the response schema
  is checked once and one validator is reused; the same responses pass or fail, with the same error message.
- Reading a conversation turns each stored event back into an object, and Rasa finds the event's class by walking
  every subclass of Event each time (7 % of a turn's CPU). Here the class found for a type name is remembered; an
  unknown name still goes through Rasa's own lookup (same classes, same default, same error).
- RulePolicy parses each learned rule from its JSON key again for every state of the conversation at every
  prediction (a tenth of a turn's CPU, growing with the conversation), and matches every rule against every state
  back to the start of the conversation although a rule only looks back as many states as it has. Here each key is
  parsed once (RulePolicy only reads the parsed rule), and matching stops after the longest rule's length, beyond
  which Rasa's own check accepts every rule. The rules that match the current state (the first and most selective
  check, against every rule) are remembered per state: the same intents and actions come back in every conversation.
- The model's graph (NLU pipeline, policies) runs through dask's scheduler several times a turn; with one thread
  that is a fixed order of function calls, and the scheduling cost an eighth of a turn's CPU. Here the runner calls
  the same nodes with the same inputs in a topological order computed once per set of targets.
- The policies rebuilt the states of the whole conversation at every prediction, so a turn cost more the longer the
  conversation (a quarter of a turn's CPU at 20 turns). Here each policy gets the window it looks at, from states
  kept up to date on the tracker as events arrive (bot/rasa/bounded_states.py).
"""

from __future__ import annotations

import functools
import logging
from contextlib import contextmanager
from typing import Any, Dict, Iterator, List, Mapping, Optional, Set, Text, Tuple

import rasa
from jsonschema import ValidationError
from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.core.policies.policy import Policy
from rasa.core.policies.rule_policy import RulePolicy
from rasa.engine.exceptions import GraphRunError
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.shared.constants import DOCS_BASE_URL
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker

from bot.core.settings import load_yaml
from bot.rasa import bounded_states

CONFIG = "config/patches.yml"
logger = logging.getLogger(__name__)
_rasa_resolve_by_type = Event.resolve_by_type
_rasa_rule_key_to_state = RulePolicy._rule_key_to_state
_rasa_get_possible_keys = RulePolicy._get_possible_keys
_rasa_validate_action_result = RemoteAction._validate_action_result
_dask_run = DaskGraphRunner.run
_event_classes: Dict[Text, Any] = {}


@functools.lru_cache(maxsize=1)
def _response_validator() -> Any:
    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _validate_action_result(self: RemoteAction, result: Dict[Text, Any]) -> bool:
    error = best_match(_response_validator().iter_errors(result))
    if error is None:
        return True
    error.message += (
        ". Failed to validate Action server response from API, make sure your response from the Action endpoint is "
        f"valid. For more information about the format visit {DOCS_BASE_URL}/custom-actions"
    )
    raise error


def _resolve_by_type(type_name: Text, default: Optional[Any] = None) -> Optional[Any]:
    found = _event_classes.get(type_name)
    if found is not None:
        return found
    resolved = _rasa_resolve_by_type(type_name, default)
    if resolved is not None and getattr(resolved, "type_name", None) == type_name:
        _event_classes[type_name] = resolved
    return resolved


@functools.lru_cache(maxsize=8192)
def _rule_key_to_state(rule_key: Text) -> Any:
    return _rasa_rule_key_to_state(rule_key)


FIRST_STATE_CACHE = 4096  # current states remembered per rule lookup (a state is an intent, entities, an action)


def _get_possible_keys(self: RulePolicy, lookup: Dict[Text, Text], states: List[Any]) -> Set[Text]:
    """RulePolicy._get_possible_keys, matching no further back than the longest rule, with the rules that match
    the current state remembered per state (the same intents and actions come back in every conversation)."""
    cache: Dict[int, Tuple[Dict[Text, Text], int, int, Dict[Any, frozenset]]] = self.__dict__.setdefault(
        "_family_rule_index", {}
    )
    entry = cache.get(id(lookup))
    if entry is None or entry[0] is not lookup or entry[1] != len(lookup):  # a new or changed lookup: start again
        longest = max((len(_rule_key_to_state(key)) for key in lookup), default=0)
        entry = cache[id(lookup)] = (lookup, len(lookup), longest, {})
    _, _, longest, first = entry
    if not states or longest == 0:
        return set(lookup.keys())
    try:
        frozen: Any = DialogueStateTracker.freeze_current_state(states[-1])
    except TypeError:  # an unhashable feature value: no remembering
        frozen = None
    matching = first.get(frozen) if frozen is not None else None
    if matching is None:
        matching = frozenset(key for key in lookup if self._is_rule_applicable(key, 0, states[-1]))
        if frozen is not None:
            if len(first) >= FIRST_STATE_CACHE:
                first.clear()
            first[frozen] = matching
    possible_keys = set(matching)
    for index, state in enumerate(reversed(states)):
        if index == 0:
            continue
        if index >= longest:
            break  # every rule is shorter: RulePolicy._is_rule_applicable is True for all of them from here on
        possible_keys = {key for key in possible_keys if self._is_rule_applicable(key, index, state)}
    return possible_keys


def _execution_order(runner: DaskGraphRunner, targets: Tuple[Text, ...]) -> List[Text]:
    """The graph nodes the targets need, each after the nodes it needs (cached on the runner)."""
    cache: Dict[Tuple[Text, ...], List[Text]] = runner.__dict__.setdefault("_family_orders", {})
    if targets not in cache:
        nodes = runner._graph_schema.nodes
        order: List[Text] = []

        def visit(name: Text) -> None:
            if name in nodes and name not in order:
                for need in nodes[name].needs.values():
                    visit(need)
                order.append(name)

        for target in targets:
            visit(target)
        cache[targets] = order
    return cache[targets]


def _run_in_order(
    self: DaskGraphRunner, inputs: Optional[Dict[Text, Any]] = None, targets: Optional[List[Text]] = None
) -> Dict[Text, Any]:
    """DaskGraphRunner.run without dask: same nodes, same inputs, same result ({target: output})."""
    run_targets = tuple(targets if targets else self._graph_schema.target_names)
    results: Dict[Text, Any] = {}
    for name, value in (inputs or {}).items():
        if isinstance(value, str) and value in self._instantiated_nodes:
            raise GraphRunError(
                f"Input value '{value}' clashes with a node name. Make sure that none of the input names passed to "
                f"the `run` method are the same as node names in the graph schema."
            )
        results[name] = (name, value)
    try:
        for name in _execution_order(self, run_targets):
            needs = self._graph_schema.nodes[name].needs.values()
            results[name] = self._instantiated_nodes[name](*(results[need] for need in needs))
    except RuntimeError as error:
        raise GraphRunError("Error running runner.") from error
    return dict(results[target] for target in run_targets)


# name in config/patches.yml -> the (class, attribute, ours, Rasa's) it replaces
PATCHES: Dict[str, List[Tuple[Any, str, Any, Any]]] = {
    "action_response_validator": [
        (RemoteAction, "_validate_action_result", _validate_action_result, _rasa_validate_action_result),
    ],
    "event_class_cache": [
        (Event, "resolve_by_type", staticmethod(_resolve_by_type), staticmethod(_rasa_resolve_by_type)),
    ],
    "rule_key_cache": [
        (RulePolicy, "_rule_key_to_state", staticmethod(_rule_key_to_state), staticmethod(_rasa_rule_key_to_state)),
    ],
    "rule_lookback": [(RulePolicy, "_get_possible_keys", _get_possible_keys, _rasa_get_possible_keys)],
    "graph_in_order": [(DaskGraphRunner, "run", _run_in_order, _dask_run)],
    "bounded_states": [
        (DialogueStateTracker, "past_states", bounded_states.past_states, bounded_states.rasa_past_states),
        (Policy, "_prediction_states", bounded_states.prediction_states, bounded_states.rasa_prediction_states),
    ],
}


class RasaVersionError(RuntimeError):
    """The installed Rasa is not the version the patches were checked against."""


def check_rasa_version(version: Optional[str] = None) -> None:
    """Refuse to patch any Rasa but the pinned one: the patches replace private code that any release may change."""
    pinned = str(load_yaml(CONFIG)["rasa_version"])
    version = version or rasa.__version__
    if version != pinned:
        raise RasaVersionError(
            f"bot/rasa/patches.py replaces internals of Rasa {pinned}, but Rasa {version} is installed: refusing "
            f"to patch it. Compare each patch with the new Rasa code (tests/test_rasa_patches.py), then set "
            f"rasa_version in {CONFIG}."
        )


def switches(configured: Optional[Mapping[str, Any]] = None) -> Dict[str, bool]:
    """Each patch's on/off switch (config/patches.yml); every patch must be listed, and nothing else."""
    configured = load_yaml(CONFIG)["patches"] if configured is None else configured
    if set(configured) != set(PATCHES):
        raise ValueError(
            f"{CONFIG} must switch exactly these patches on or off: {sorted(PATCHES)} "
            f"(missing: {sorted(set(PATCHES) - set(configured))}, unknown: {sorted(set(configured) - set(PATCHES))})"
        )
    for name, value in configured.items():
        if not isinstance(value, bool):
            raise ValueError(f"{CONFIG}: patches.{name} must be true or false, not {value!r}")
    return dict(configured)


def install(configured: Optional[Mapping[str, Any]] = None) -> List[str]:
    """Check the Rasa version, then put in the patches switched on (the others get Rasa's code); their names."""
    check_rasa_version()
    on = switches(configured)
    for name, replacements in PATCHES.items():
        for owner, attribute, ours, theirs in replacements:
            setattr(owner, attribute, ours if on[name] else theirs)
    names = [name for name in PATCHES if on[name]]
    logger.info("Rasa %s patched (%s): %s", rasa.__version__, CONFIG, ", ".join(names) or "nothing")
    return names


def uninstall() -> None:
    """Rasa's own code back (tests compare the two)."""
    for replacements in PATCHES.values():
        for owner, attribute, _, theirs in replacements:
            setattr(owner, attribute, theirs)


def installed() -> List[str]:
    """The names of the patches in place now."""
    return [
        name for name, replacements in PATCHES.items()
        if all(vars(owner).get(attribute) is ours for owner, attribute, ours, _ in replacements)
    ]


def log_state() -> None:
    """Say in the log which patches are in place (the REST channel calls this once Rasa has set up its logging)."""
    missing = [name for name, on in switches().items() if on and name not in installed()]
    if missing:
        logger.warning(
            "Rasa patches switched on in %s but not installed: %s. Start Rasa with `python -m bot.rasa.cli run` to "
            "run the code that ships.", CONFIG, ", ".join(missing),
        )
    else:
        logger.info("Rasa patches in place: %s", ", ".join(installed()) or "none")
    from bot.rasa import without_tensorflow

    logger.info("TensorFlow: %s", "not loaded (the model has no TensorFlow component)" if without_tensorflow.active()
                else "loaded")


@contextmanager
def patched(configured: Optional[Mapping[str, Any]] = None) -> Iterator[List[str]]:
    """install() for the duration of a block, then whatever was there before back (tests, evaluation)."""
    before = [
        (owner, attribute, vars(owner)[attribute]) for group in PATCHES.values() for owner, attribute, _, _ in group
    ]
    try:
        yield install(configured)
    finally:
        for owner, attribute, previous in before:
            setattr(owner, attribute, previous)


__all__ = [
    "RasaVersionError", "ValidationError", "check_rasa_version", "install", "installed", "log_state", "patched",
    "uninstall",
]
