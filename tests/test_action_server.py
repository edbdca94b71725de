"""The action server ships alone: the project's copies of ../shared, actions/requirements.txt, and every action run
from a copy of only the files actions/files.txt lists (README, "Running the action server alone")."""

from __future__ import annotations

import json
import re
import subprocess
from importlib.metadata import distribution
from pathlib import Path
from typing import Any, Dict, List

import pytest
import yaml
from packaging.requirements import Requirement

from bot.core.settings import load_yaml, setting_path
from tests.servers import BIN, ROOT, base_env

SHARED = ROOT.parent / "shared"
# The project's copy of each file of ../shared it reads (config/bot.yml points at the copies).
COPIES = {
    "source_text": SHARED / "source" / "benzodiazepine-addiction-treatment.txt",
    "topic_contract": SHARED / "spec" / "intents.yml",
}
# What the action server imports itself; the rest of actions/requirements.txt is what these depend on.
TOP_LEVEL = ["rasa-sdk", "PyYAML"]


def pins(path: Path) -> Dict[str, str]:
    """name (normalised) -> the pinned line, for a requirements file of `name==version` lines."""
    found = {}
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            found[normalise(line.split("==")[0])] = line
    return found


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def installed_closure(names: List[str]) -> Dict[str, str]:
    """The installed distributions these need, with what they need in turn (markers of this platform)."""
    found: Dict[str, str] = {}
    todo = list(names)
    while todo:
        dist = distribution(todo.pop())
        name = normalise(dist.metadata["Name"])
        if name in found:
            continue
        found[name] = f"{dist.metadata['Name']}=={dist.version}"
        for requirement in map(Requirement, dist.requires or []):
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement.name)
    return found


def shipped_files() -> List[str]:
    lines = (ROOT / "actions" / "files.txt").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


@pytest.mark.parametrize("key", sorted(COPIES))
def test_the_project_copy_is_byte_equal_to_shared(key: str) -> None:
    """../shared is always beside the project (CI too): a missing or changed original fails here, loudly."""
    original, copy = COPIES[key], setting_path(key)
    assert original.is_file(), f"{original} is missing: ../shared must sit beside the project"
    assert copy.is_relative_to(ROOT), f"config/bot.yml {key} must name the project's copy, not {copy}"
    assert copy.read_bytes() == original.read_bytes(), (
        f"{copy.relative_to(ROOT)} differs from {original}: review the change, then `cp {original} {copy}`"
    )


def test_action_requirements_are_exactly_what_rasa_sdk_and_pyyaml_need_pinned_as_in_the_lock() -> None:
    wanted = pins(ROOT / "actions" / "requirements.txt")
    lock = pins(ROOT / "requirements.lock")
    assert {name: line for name, line in wanted.items() if lock.get(name) != line} == {}
    assert wanted == installed_closure(TOP_LEVEL)


# Runs in the copy: every registered action through rasa-sdk's own executor (the action server's code path without
# HTTP), recording every file of the copy that is opened (imports included).
RUN_EVERY_ACTION = r"""
import asyncio, json, sys
from pathlib import Path

here = Path.cwd().resolve()
opened = set()
def record(event, args):
    if event == "open" and isinstance(args[0], str):
        path = Path(args[0]).resolve()
        if here in path.parents and "__pycache__" not in path.parts:
            opened.add(str(path.relative_to(here)))
sys.addaudithook(record)

from rasa_sdk import __version__
from rasa_sdk.executor import ActionExecutor

call = json.load(sys.stdin)
executor = ActionExecutor()
executor.register_package("actions")
results = {}
for name in sorted(executor.actions):
    tracker = dict(call["trackers"].get(name, call["trackers"]["default"]), sender_id="ship-alone")
    action_call = {"next_action": name, "tracker": tracker, "domain": call["domain"], "version": __version__}
    results[name] = asyncio.run(executor.run(action_call))
modules = [getattr(m, "__file__", None) or "" for m in list(sys.modules.values())]
print(json.dumps({
    "results": results,
    "opened": sorted(opened),
    "from_the_project": sorted(f for f in modules if f.startswith(tuple(call["project"]))),
    "shared_exists": (here.parent / "shared").exists(),
}))
"""


def user(intent: str, **parse_data: Any) -> Dict[str, Any]:
    parsed = {"intent": {"name": intent, "confidence": 0.9}, **parse_data}
    return {"event": "user", "text": intent, "parse_data": parsed}


def state(*events: Dict[str, Any], **slots: str) -> Dict[str, Any]:
    latest = events[-1]["parse_data"] if events else {}
    return {"slots": slots, "latest_message": latest, "events": list(events), "latest_action_name": "action_listen"}


TRACKERS = {
    "default": state(user("ask_withdrawal_symptoms"), last_topic="ask_withdrawal_symptoms"),
    "action_tell_more": state(user("ask_signs_of_addiction"), user("ask_more")),
    "action_clarify": state(user("nlu_fallback", intent_ranking=[
        {"name": "nlu_fallback", "confidence": 0.4},
        {"name": "ask_tapering", "confidence": 0.35},
        {"name": "ask_detox_process", "confidence": 0.3},
    ])),
    "action_answer_after_check": state(
        user("safety_check_medical", safety={"outcome": "asked", "classifier_intent": "ask_tapering"}),
        user("deny"),
    ),
}


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> Dict[str, Any]:
    """Every action run in a temporary directory holding only actions/files.txt's files, with no ../shared."""
    project = tmp_path_factory.mktemp("ship") / "project"
    for name in shipped_files():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_bytes((ROOT / name).read_bytes())
    domain = yaml.safe_load((ROOT / "domain.yml").read_text())  # Rasa sends it with every call
    env = {k: v for k, v in base_env(PYTHONPATH=str(project), PYTHONDONTWRITEBYTECODE="1").items() if k != "BOT_CONFIG"}
    ours = [f"{ROOT / package}/" for package in ("actions", "bot", "tests")]  # none may be imported from here
    result = subprocess.run(
        [str(BIN / "python"), "-c", RUN_EVERY_ACTION],
        input=json.dumps({"trackers": TRACKERS, "domain": domain, "project": ours}),
        cwd=project, env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(result.stdout.splitlines()[-1])


def test_every_action_runs_from_the_shipped_files_alone(shipped: Dict[str, Any]) -> None:
    assert not shipped["shared_exists"] and not shipped["from_the_project"]
    assert set(shipped["results"]) >= {"action_tell_more", "action_next_step", "action_clarify"}
    silent = {"action_provider_contact"}  # no provider is configured (config/provider.yml)
    assert all(result["responses"] for name, result in shipped["results"].items() if name not in silent)


def test_files_txt_lists_exactly_the_files_the_actions_read(shipped: Dict[str, Any]) -> None:
    """A file the actions need but the list lacks fails the run above; a listed file nothing reads fails here."""
    assert set(shipped["opened"]) == set(shipped_files())


def test_the_shipped_actions_answer_from_the_source_copy(shipped: Dict[str, Any]) -> None:
    results = shipped["results"]
    intro, more = results["action_tell_more"]["responses"]
    assert intro["text"].startswith("More on ")
    source = setting_path("source_text").read_text()
    assert more["text"] and more["text"].split(". ")[0] in source
    following = load_yaml("config/followups.yml")["next"]["ask_withdrawal_symptoms"]
    assert results["action_next_step"]["responses"][0]["response"] == f"utter_{following}"
    assert {"event": "slot", "name": "last_topic", "value": following} in [
        {k: e.get(k) for k in ("event", "name", "value")} for e in results["action_next_step"]["events"]
    ]
    [clarify] = results["action_clarify"]["responses"]
    assert [b["payload"] for b in clarify["buttons"]][:2] == ["/ask_tapering", "/ask_detox_process"]
    assert results["action_answer_after_check"]["responses"][-1]["response"] == "utter_ask_tapering"

