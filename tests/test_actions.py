"""Custom actions, run with rasa-sdk's real Tracker and dispatcher."""

from __future__ import annotations

from typing import Any, Dict, List

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.actions import NOTHING_MORE, ActionProviderContact, ActionTellMore
from bot import provider
from bot.settings import load_yaml
from tests.servers import ROOT

DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text())


def user(intent: str) -> Dict[str, Any]:
    return {"event": "user", "text": intent, "parse_data": {"intent": {"name": intent, "confidence": 0.9}}}


def tracker(*intents: str) -> Tracker:
    return Tracker("t", {}, {}, [user(i) for i in intents], False, None, {}, "action_listen")


def run(action: Any, t: Tracker) -> List[Dict[str, Any]]:
    dispatcher = CollectingDispatcher()
    action.run(dispatcher, t, DOMAIN)
    return dispatcher.messages


def test_provider_contact_is_silent_when_none_is_configured() -> None:
    assert run(ActionProviderContact(), tracker("request_human")) == []


def test_provider_contact_gives_the_configured_details(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        provider, "load_yaml",
        lambda _: {"name": "Valley Recovery", "phone": "559-555-0100", "website": "https://valley.example"},
    )
    [message] = run(ActionProviderContact(), tracker("request_human"))
    assert message["text"] == "You can also contact Valley Recovery: call 559-555-0100 or https://valley.example."


def test_the_default_provider_file_is_empty() -> None:
    assert not any(load_yaml("config/provider.yml").values())


def test_tell_me_more_gives_unseen_source_sentences_of_the_last_topic() -> None:
    [message] = run(ActionTellMore(), tracker("greet", "ask_signs_of_addiction", "ask_more"))
    source = (ROOT.parent / "shared/source/benzodiazepine-addiction-treatment.txt").read_text().splitlines()
    assert message["text"] and message["text"].split(". ")[0] in " ".join(source[8:11])
    assert message["text"] not in DOMAIN["responses"]["utter_ask_signs_of_addiction"][0]["text"]
    assert message["buttons"] == DOMAIN["responses"]["utter_ask_signs_of_addiction"][0]["buttons"]


def test_tell_me_more_pages_through_and_then_says_so() -> None:
    pages = [run(ActionTellMore(), tracker("ask_risks_of_long_term_use", *["ask_more"] * n))[0] for n in range(1, 6)]
    texts = [page["text"] for page in pages]
    assert texts[0] != NOTHING_MORE and texts[1] != NOTHING_MORE and texts[0] != texts[1]
    assert texts[-1] == NOTHING_MORE


def test_tell_me_more_says_so_when_the_answer_was_the_whole_paragraph() -> None:
    messages = run(ActionTellMore(), tracker("ask_dbt", "ask_more"))
    assert messages[0]["text"] == NOTHING_MORE and messages[1]["response"] == "utter_ask_topics"


def test_tell_me_more_without_a_topic_offers_the_menu() -> None:
    [message] = run(ActionTellMore(), tracker("greet", "ask_more"))
    assert message["response"] == "utter_ask_topics"
