"""A Rasa process serving our model does not load TensorFlow (bot/rasa/without_tensorflow.py), answers exactly as
one that does, and a model with any component not known to be TensorFlow-free gets the real TensorFlow."""

from __future__ import annotations

import io
import json
import subprocess
import tarfile
from pathlib import Path
from typing import Any, Dict, List

import pytest

from bot.core.settings import load_yaml
from bot.rasa import without_tensorflow
from tests.servers import BIN, ROOT, base_env

SETTINGS = load_yaml(without_tensorflow.CONFIG)
MESSAGES = ["hello", "my son takes xanax", "what is tapering", "my son took all his pills and won't wake up",
            "she wants to die", "tell me more", "asdfgh", "how do I find a treatment center", "thanks", "bye"]
# Talks to the model in a fresh process, with or without the placeholders, and says what it loaded.
SCRIPT = """
import asyncio, json, logging, sys
from bot.rasa import without_tensorflow
if sys.argv[1] == "without":
    without_tensorflow.install()
from bot.rasa import patches
patches.install()
logging.disable(logging.WARNING)
from rasa.core.agent import Agent
agent = Agent.load(sys.argv[2])
async def talk():
    return [[m.get("text") for m in await agent.handle_text(t, sender_id="tf") or []] for t in json.loads(sys.argv[3])]
answers = asyncio.run(talk())
status = dict(line.split(":", 1) for line in open("/proc/self/status") if line.startswith("VmRSS"))
print(json.dumps({"answers": answers, "placeholder": without_tensorflow.active(),
                  "real": "tensorflow.python" in sys.modules, "rss_mb": int(status["VmRSS"].split()[0]) // 1024}))
"""


def talk(model: Path, mode: str) -> Dict[str, Any]:
    result = subprocess.run([str(BIN / "python"), "-c", SCRIPT, mode, str(model), json.dumps(MESSAGES)], cwd=ROOT,
                            env=base_env(), capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_model_answers_the_same_without_tensorflow(model: Path) -> None:
    without, real = talk(model, "without"), talk(model, "with")
    assert without["placeholder"] and not without["real"]
    assert real["real"] and not real["placeholder"]
    assert without["answers"] == real["answers"]
    assert any("911" in text for answer in without["answers"] for text in answer)
    assert without["rss_mb"] < real["rss_mb"] - 200  # what the placeholders are for


def test_the_served_model_qualifies(model: Path) -> None:
    assert without_tensorflow.applies(["rasa", "run", "--model", str(model)], SETTINGS)
    assert without_tensorflow.applies(["rasa", "test", "core", "--model", str(model)], SETTINGS)


def fake_model(tmp_path: Path, components: List[str]) -> Path:
    metadata = {"predict_schema": {"nodes": {f"node{i}": {"uses": uses} for i, uses in enumerate(components)}}}
    path = tmp_path / "model.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        data = json.dumps(metadata).encode()
        info = tarfile.TarInfo("metadata.json")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    return path


@pytest.mark.parametrize("component", ["rasa.nlu.classifiers.diet_classifier.DIETClassifier",
                                       "rasa.core.policies.ted_policy.TEDPolicy",
                                       "rasa.nlu.selectors.response_selector.ResponseSelector"])
def test_a_model_with_a_tensorflow_component_gets_tensorflow(tmp_path: Path, component: str) -> None:
    free = SETTINGS["tensorflow_free"]
    assert without_tensorflow.applies(["rasa", "run", "--model", str(fake_model(tmp_path, free))], SETTINGS)
    model = fake_model(tmp_path, [*free, component])
    assert not without_tensorflow.applies(["rasa", "run", "--model", str(model)], SETTINGS)
    assert without_tensorflow.needs_tensorflow([*free, component], free) == [component]


def test_only_serving_commands_and_only_when_switched_on(tmp_path: Path) -> None:
    model = str(fake_model(tmp_path, SETTINGS["tensorflow_free"]))
    assert not without_tensorflow.applies(["rasa", "train", "--model", model], SETTINGS)
    assert not without_tensorflow.applies(["rasa", "run", "--model", model], {**SETTINGS, "skip_tensorflow": False})
    assert not without_tensorflow.applies(["rasa", "run", "--model", str(tmp_path / "missing.tar.gz")], SETTINGS)
    assert without_tensorflow.applies(["rasa", "shell", "-m", str(tmp_path)], SETTINGS)  # the newest in a directory
