"""Training data and the topic contract: rasa data validate, the contract, the held-out set."""

from __future__ import annotations

import re
import subprocess
from collections import defaultdict
from typing import Dict, List

import yaml

from bot.content import contract
from tests.servers import BIN, ROOT, base_env

MIN_TRAINING_EXAMPLES = 20
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
    assert "UserWarning" not in result.stdout + result.stderr


def test_every_contract_intent_is_in_the_domain() -> None:
    domain = yaml.safe_load((ROOT / "domain.yml").read_text())
    assert set(contract()) <= set(domain["intents"])


def test_every_contract_intent_has_enough_training_examples() -> None:
    counts = {intent: len(found) for intent, found in examples("data/nlu.yml").items()}
    thin = {intent: counts.get(intent, 0) for intent in contract() if counts.get(intent, 0) < MIN_TRAINING_EXAMPLES}
    assert not thin


def test_every_contract_intent_is_in_the_held_out_set() -> None:
    counts = {intent: len(found) for intent, found in examples("tests/nlu_holdout.yml").items()}
    thin = {intent: counts.get(intent, 0) for intent in contract() if counts.get(intent, 0) < MIN_HOLDOUT_EXAMPLES}
    assert not thin


def test_held_out_messages_are_not_in_the_training_data() -> None:
    training = {normalised(e) for found in examples("data/nlu.yml").values() for e in found}
    leaked = [e for found in examples("tests/nlu_holdout.yml").values() for e in found if normalised(e) in training]
    assert not leaked


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
