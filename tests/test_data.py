"""Training data and the topic contract: rasa data validate, the contract, the held-out set."""

from __future__ import annotations

import re
import subprocess
from collections import defaultdict
from typing import Dict, List

import pytest
import yaml

from bot.core.content import contract, contract_intents
from tests.servers import BIN, ROOT, base_env

MIN_TRAINING_EXAMPLES = 60  # per contract intent
MIN_PROJECT_EXAMPLES = 40  # per topic of the project's own
MIN_HOLDOUT_EXAMPLES = 5


def examples(path: str) -> Dict[str, List[str]]:
    found: Dict[str, List[str]] = defaultdict(list)
    for block in yaml.safe_load((ROOT / path).read_text())["nlu"]:
        if "intent" in block:
            found[block["intent"]] += [line[2:].strip() for line in block["examples"].splitlines() if line.strip()]
    return found


def normalised(example: str) -> str:
    text = re.sub(r"\[([^\]]+)\]\([^)]+\)|\[([^\]]+)\]\{[^}]+\}", lambda m: m.group(1) or m.group(2), example)
    return " ".join(re.sub(r"[^\w\s]", "", text.lower()).split())


def test_rasa_data_validate_passes_without_warnings() -> None:
    result = subprocess.run(
        [str(BIN / "rasa"), "data", "validate", "--fail-on-warnings"],
        cwd=ROOT, env=base_env(), capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    # The one expected warning: intents only the safety net sets (config/topics.yml `set_by: safety_net`) have no
    # training examples, on purpose - the classifier must never guess them.
    by_safety_net = [i for i, e in contract().items() if e.get("set_by") == "safety_net"]
    expected = re.compile(
        r"UserWarning: The intent '(?:" + "|".join(by_safety_net) + r")' is listed in the domain file, but is not found"
    )
    output = result.stdout + result.stderr
    assert "UserWarning" not in expected.sub("", output), output[-3000:]


def test_every_contract_intent_is_in_the_domain() -> None:
    domain = yaml.safe_load((ROOT / "domain.yml").read_text())
    assert set(contract()) <= set(domain["intents"])


def test_every_contract_intent_has_enough_training_examples() -> None:
    counts = {intent: len(found) for intent, found in examples("data/nlu.yml").items()}
    thin = {i: counts.get(i, 0) for i in contract_intents() if counts.get(i, 0) < MIN_TRAINING_EXAMPLES}
    assert not thin


def test_every_project_topic_has_training_examples_unless_the_safety_net_sets_it() -> None:
    counts = {intent: len(found) for intent, found in examples("data/nlu.yml").items()}
    own = [i for i, e in contract().items() if e["origin"] == "project_topics" and e.get("set_by") != "safety_net"]
    # topics need the variety; follow-ups ("and after that?", "is that safe?") are short and alike
    wanted = {i: MIN_PROJECT_EXAMPLES if contract()[i]["group"] != "conversation" else 25 for i in own}
    assert not {i: counts.get(i, 0) for i in own if counts.get(i, 0) < wanted[i]}
    by_safety_net = [i for i, e in contract().items() if e.get("set_by") == "safety_net"]
    assert by_safety_net and not [i for i in by_safety_net if i in counts]


def test_training_examples_are_not_repeated() -> None:
    seen: Dict[str, str] = {}
    repeated = []
    for intent, found in examples("data/nlu.yml").items():
        for example in found:
            key = normalised(example)
            if key in seen:
                repeated.append((example, seen[key], intent))
            seen[key] = intent
    assert not repeated


def test_every_contract_intent_is_in_the_held_out_set() -> None:
    counts = {intent: len(found) for intent, found in examples("tests/nlu_holdout.yml").items()}
    thin = {i: counts.get(i, 0) for i in contract_intents() if counts.get(i, 0) < MIN_HOLDOUT_EXAMPLES}
    assert not thin


def evaluation_messages() -> Dict[str, List[str]]:
    """Every message of the sets that are only evaluated, never trained or tuned on."""
    sets = {
        "tests/nlu_holdout.yml": [e for found in examples("tests/nlu_holdout.yml").values() for e in found],
    }
    # every set there is, so that a new one is covered the day it lands
    for path in sorted(ROOT.glob("tests/nlu_blind*.yml")):
        sets[path.name] = [e for found in examples(f"tests/{path.name}").values() for e in found]
    for path in sorted(ROOT.glob("tests/dialogues*.yml")):
        dialogues = yaml.safe_load(path.read_text())["dialogues"]
        sets[path.name] = [turn["user"] for dialogue in dialogues for turn in dialogue["turns"]]
    for path in sorted(ROOT.glob("tests/crisis_*.yml")):
        sets[path.name] = [case["text"] for case in yaml.safe_load(path.read_text())["cases"]]
    return sets


def test_evaluation_sets_are_disjoint_from_the_training_data() -> None:
    training = {normalised(e) for found in examples("data/nlu.yml").values() for e in found}
    sets = evaluation_messages()
    leaked = {name: [m for m in messages if normalised(m) in training] for name, messages in sets.items()}
    assert all(messages for messages in evaluation_messages().values())
    assert not {name: found for name, found in leaked.items() if found}


@pytest.mark.parametrize("path", ["tests/nlu_blind.yml", "tests/nlu_blind2.yml", "tests/nlu_blind3.yml"])
def test_the_blind_sets_cover_every_contract_intent(path: str) -> None:
    counts = {intent: len(found) for intent, found in examples(path).items()}
    assert not [i for i in contract_intents() if counts.get(i, 0) < 10]


def test_every_intent_has_a_rule() -> None:
    rules = yaml.safe_load((ROOT / "data/rules.yml").read_text())["rules"]
    ruled = {step["intent"] for rule in rules for step in rule["steps"] if "intent" in step}
    domain = yaml.safe_load((ROOT / "domain.yml").read_text())
    assert set(domain["intents"]) <= ruled


def test_emergency_rules_use_no_custom_action() -> None:
    """Emergency answers must come when the action server is down."""
    rules = yaml.safe_load((ROOT / "data/rules.yml").read_text())["rules"]
    for rule in rules:
        intents = [step["intent"] for step in rule["steps"] if "intent" in step]
        if any(i.startswith("emergency_") for i in intents):
            actions = [step["action"] for step in rule["steps"] if "action" in step]
            assert all(a.startswith("utter_") for a in actions), rule["rule"]


def test_configuration_files_have_no_repeated_keys() -> None:
    """YAML keeps the last of two equal keys without a word: a second `patterns_es:` in a safety group silently
    dropped the first one's Spanish phrases."""

    class Strict(yaml.SafeLoader):
        pass

    repeated: List[str] = []

    def mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> Dict:
        keys = [loader.construct_object(key) for key, _ in node.value]
        repeated.extend(f"line {node.start_mark.line + 1}: {k}" for k in set(keys) if keys.count(k) > 1)
        return yaml.SafeLoader.construct_mapping(loader, node)

    Strict.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, mapping)
    for path in ["domain.yml", "config.yml", "endpoints.yml", "credentials.yml", *map(str, ROOT.glob("config/*.yml")),
                 *map(str, ROOT.glob("data/*.yml"))]:
        yaml.load((ROOT / path).read_text(), Loader=Strict)
    assert not repeated
