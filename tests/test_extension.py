"""The README's "Adding a topic (developers)", followed step by step for a made-up topic backed by the source, in a
temporary copy of the project (its tracked files, ../shared beside it): validation, the source check, training,
the test stories, the hold-out NLU and the new topic's own answer and follow-up must all pass, so the documented
path cannot rot. Trains a model (1-2 minutes): marker `training`, left out of `make test-fast`."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any, Callable, Dict

import pytest
import yaml

from tests.servers import BIN, ROOT, base_env

pytestmark = pytest.mark.training

INTENT = "ask_mood_swings"
TITLE = "Mood swings and irritability"
# Step 1: the source paragraphs (content/benzodiazepine-addiction-treatment.txt, one per line) the answer quotes.
SOURCE = [10, 11, 12]
ANSWER = (
    "Many individuals also experience emotional instability, such as irritability, depression, or mood swings. "
    "Emotional symptoms like guilt, anxiety, and fear of withdrawal further trap them in the addiction cycle. "
    "Families observing these behaviors should avoid confrontation and instead focus on compassionate communication."
)
RELATED = ["ask_how_to_talk_to_loved_one", "ask_signs_of_addiction", "ask_worse_anxiety_depression"]
NEXT = "ask_how_to_talk_to_loved_one"
# Step 3: 40+ examples the way relatives write, and different ones for the hold-out set.
EXAMPLES = """
my [son](loved_one) has terrible mood swings since he started on [xanax](medication)
can benzos cause mood swings
why is my [wife](loved_one) so irritable all the time on [klonopin](medication)
my [husband](loved_one) goes from laughing to furious in five minutes, is that the [ativan](medication)
do benzodiazepines make people moody
my [mom](loved_one) snaps at everyone lately and she takes [valium](medication) every day
is emotional instability a side effect of long term benzo use
my [daughter](loved_one) cries one minute and is fine the next, shes on [lorazepam](medication)
why are his moods so up and down since the [clonazepam](medication)
my [dad](loved_one) used to be calm and now he loses his temper over nothing. could it be his [diazepam](medication)
she flies off the handle at the smallest thing since she got hooked on bars
is irritability normal for someone dependent on benzos
my [brother](loved_one) is moody and short with everyone, he has been taking [alprazolam](medication) for years
how do benzos affect someones mood
my [partner](loved_one) is sweet in the morning and cranky by night. she takes [ativan](medication)
can [klonopin](medication) make you irritable
why does my [son](loved_one) get so touchy and grumpy, he uses xans
his mood changes so fast i never know which version of him will walk in
my [wife](loved_one) gets emotional and tearful out of nowhere since the [xanax](medication) started
is it the pills making her so moody
my [husband](loved_one) is irritable and impatient with the kids, he has been on [valium](medication) a long time
mood swings and benzodiazepines, are they connected
my [mom](loved_one) is up and down emotionally all day, she relies on her [lorazepam](medication)
could benzo dependence explain the constant crankiness
my [daughter](loved_one) blows up at us then apologises an hour later. shes been on [klonopin](medication) two years
do people on benzos get emotionally unstable
my [dad](loved_one) is so prickly these days, everything annoys him. hes been on [ativan](medication) since his surgery
why is my [son](loved_one) so emotional and unpredictable lately, i found [xanax](medication) in his jacket
she swings between giddy and miserable and i think its the benzos
can long term [diazepam](medication) use change someones temperament
my [brother](loved_one) gets irritable and snappy whenever we talk, hes hooked on [clonazepam](medication)
emotional ups and downs on [alprazolam](medication), is that common
my [wife](loved_one) is on edge and irritable constantly, could her [valium](medication) be doing that
is the moodiness part of benzo addiction
my [husband](loved_one) has gotten so grouchy since he started taking [klonopin](medication) every night
my [mom](loved_one) is happy one day and sobbing the next, she takes [xanax](medication)
why would [lorazepam](medication) make someone so irritable
my [partner](loved_one) is moody and unpredictable and takes [ativan](medication) more than prescribed
do benzodiazepines cause emotional instability
his temper has got so much shorter since the [valium](medication)
my [daughter](loved_one) is irritable and withdrawn one day, clingy and emotional the next. she uses bars
can mood swings be a sign of benzo dependence
my [dad](loved_one) gets cranky and impatient whenever his [klonopin](medication) wears off
why are benzo users so irritable
my [son](loved_one) used to be easygoing, now he is moody and snaps at his sister. hes taking [alprazolam](medication)
"""
HOLDOUT = """
my [husband](loved_one) is so moody and snappy lately and he takes [xanax](medication) every day
can [ativan](medication) cause mood swings
why is my [mom](loved_one) irritable and tearful all the time on her [valium](medication)
my [daughter](loved_one) has huge emotional ups and downs since she started [klonopin](medication)
do benzos make people cranky and emotional
"""
STORY_MESSAGE = "my wife's moods are all over the place since she started taking klonopin"


def lines(block: str) -> str:
    return "".join(f"- {line}\n" for line in block.strip().splitlines())


def literal(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


class Dumper(yaml.SafeDumper):
    """Keeps multi-line strings (NLU examples) as blocks, as a developer would write them."""


Dumper.add_representer(str, literal)


def edit(project: Path, name: str, change: Callable[[Dict[str, Any]], None]) -> None:
    path = project / name
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.dump(data, Dumper=Dumper, sort_keys=False, allow_unicode=True, width=120))


def copy_project(target: Path) -> Path:
    """The tracked files as they are in the working tree, ../shared beside them, and the built spaCy pipeline."""
    project = target / "project"
    tracked = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split("\0")
    for name in filter(None, tracked):
        if (ROOT / name).is_file():
            (project / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, project / name)
    shared = ROOT.parent / "shared"
    assert shared.is_dir(), f"{shared} is missing: ../shared must sit beside the project"
    shutil.copytree(shared, target / "shared")
    spacy = ROOT / "build" / "spacy"
    assert spacy.is_dir(), "no spaCy pipeline: run `make setup`"
    sentences = ROOT / "build" / "minilm"
    assert sentences.is_dir(), "no sentence encoder files: run `make setup`"
    (project / "build").mkdir()
    (project / "build" / "spacy").symlink_to(spacy)
    (project / "build" / "minilm").symlink_to(sentences)  # its cache of training sentences is shared too
    return project


def add_topic(project: Path) -> None:
    """The README's steps, in its order."""
    topics = yaml.safe_load((project / "config" / "topics.yml").read_text())
    titles = topics["titles"]
    domain = yaml.safe_load((project / "domain.yml").read_text())
    assert INTENT not in domain["intents"] and INTENT not in titles, f"{INTENT} exists: pick another made-up topic"

    # 1. config/topics.yml: the topic with its source paragraphs, and its button title
    def topic(data: Dict[str, Any]) -> None:
        entry = {"intent": INTENT, "asks": "irritability, mood swings, emotional ups and downs", "source": SOURCE}
        data["information"].append(entry)
        data["titles"][INTENT] = TITLE

    edit(project, "config/topics.yml", topic)

    # 2. domain.yml: the intent, its answer from those paragraphs with 2-3 buttons, the last_topic slot mapping
    def answer(data: Dict[str, Any]) -> None:
        data["intents"].append(INTENT)
        buttons = [{"title": titles[r], "payload": f"/{r}"} for r in RELATED]
        data["responses"][f"utter_{INTENT}"] = [{"text": ANSWER, "buttons": buttons}]
        data["slots"]["last_topic"]["mappings"].append({"type": "from_intent", "intent": INTENT, "value": INTENT})

    edit(project, "domain.yml", answer)

    # 3. data/nlu.yml: 40+ examples; tests/nlu_holdout.yml: 5+ others
    edit(project, "data/nlu.yml", lambda d: d["nlu"].append({"intent": INTENT, "examples": lines(EXAMPLES)}))
    edit(project, "tests/nlu_holdout.yml", lambda d: d["nlu"].append({"intent": INTENT, "examples": lines(HOLDOUT)}))

    # 4. data/rules.yml: the rule
    rule = {"rule": f"answer {INTENT}", "steps": [{"intent": INTENT}, {"action": f"utter_{INTENT}"}]}
    edit(project, "data/rules.yml", lambda d: d["rules"].append(rule))

    # 5. config/followups.yml: where "and after that?" goes
    edit(project, "config/followups.yml", lambda d: d["next"].__setitem__(INTENT, NEXT))

    # 6. tests/test_stories.yml: the test story
    story = {
        "story": f"topic {INTENT}",
        "steps": [{"user": STORY_MESSAGE, "intent": INTENT}, {"action": f"utter_{INTENT}"}],
    }
    edit(project, "tests/test_stories.yml", lambda d: d["stories"].append(story))


def env(project: Path) -> Dict[str, str]:
    return {k: v for k, v in base_env(PYTHONPATH=str(project)).items() if k != "BOT_CONFIG"}


def run(project: Path, *cmd: str, timeout: float = 600, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(
        list(cmd), cwd=project, env=env(project), input=stdin, capture_output=True, text=True, timeout=timeout
    )


def pytest_in(project: Path, *tests: str) -> None:
    """The copy's own tests on the copy (its own basetemp, so this session's temporary directories are left alone)."""
    result = run(project, str(BIN / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider",
                 f"--basetemp={project.parent / 'inner'}", *tests)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]


@pytest.fixture(scope="module")
def extended(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = copy_project(tmp_path_factory.mktemp("extension"))
    add_topic(project)
    return project


@pytest.fixture(scope="module")
def trained(extended: Path) -> Path:
    model = extended / "models" / "benzo-family.tar.gz"
    result = run(
        extended, str(BIN / "rasa"), "train", "--out", str(model.parent), "--fixed-model-name", "benzo-family",
        timeout=900,
    )
    assert result.returncode == 0 and model.exists(), result.stdout[-3000:] + result.stderr[-3000:]
    return model


def test_validation_and_the_source_check_pass(extended: Path) -> None:
    """`make validate`: rasa data validate without warnings, the topic contract, the examples, the source check,
    the copies of ../shared and the action server run from its own files."""
    pytest_in(extended, "tests/test_data.py", "tests/test_content.py", "tests/test_action_server.py")


def test_the_trained_model_passes_the_test_stories_and_the_holdout_floor(trained: Path) -> None:
    pytest_in(trained.parent.parent, "tests/test_stories.py", "tests/test_nlu.py")


# Runs in the copy on its model: the new topic's hold-out messages, a family's question and "and after that?".
ASK_THE_NEW_TOPIC = r"""
import asyncio, json, sys
from rasa.core.agent import Agent
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from actions.actions import ActionNextStep

ask = json.load(sys.stdin)
agent = Agent.load("models/benzo-family.tar.gz")

async def main():
    intents = [(await agent.parse_message(text))["intent"]["name"] for text in ask["holdout"]]
    answers = await agent.handle_text(ask["question"], sender_id="extension")
    tracker = await agent.tracker_store.retrieve("extension")
    dispatcher = CollectingDispatcher()
    events = ActionNextStep().run(dispatcher, Tracker.from_dict(tracker.current_state()), {})
    return {"intents": intents, "answers": answers, "last_topic": tracker.get_slot("last_topic"),
            "next": dispatcher.messages, "next_events": events}

print(json.dumps(asyncio.run(main()), default=str))
"""


def test_a_family_asking_the_new_topic_gets_its_answer_and_its_follow_up(trained: Path) -> None:
    plain = [re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", line) for line in HOLDOUT.strip().splitlines()]
    result = run(
        trained.parent.parent, str(BIN / "python"), "-c", ASK_THE_NEW_TOPIC,
        stdin=json.dumps({"holdout": plain, "question": STORY_MESSAGE}),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    found = json.loads(result.stdout.splitlines()[-1])
    assert found["intents"].count(INTENT) >= len(plain) - 1, found["intents"]
    assert [a.get("text") for a in found["answers"]][:1] == [ANSWER]
    assert found["last_topic"] == INTENT
    assert [m["response"] for m in found["next"]] == [f"utter_{NEXT}"]
