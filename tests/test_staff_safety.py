"""The safety net's decisions in the staff console: stored events carrying parse_data["safety"] (the current shape
with outcome, kind and language, and the older {phrase, classifier_intent}) are shown beside the message in the
transcript, filter the conversation list and go into the exports. A temporary SQLite store, the console through
Flask's test client; no servers."""

from __future__ import annotations

import csv
import io
import json
import re
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from flask.testing import FlaskClient

from bot.core.settings import web_settings
from bot.staff import accounts, index, queries
from bot.staff.db import conversations, engine
from bot.staff.migrate import alembic_config, upgrade
from bot.staff.safety_decisions import SafetyDecision, decision
from bot.web.app import create_app
from tests.staff_store import indexed_store
from tests.test_staff_unit import LOW, bot, slot, store, user

PASSWORD = "a long enough password"


def safety(outcome: str, kind: str, phrase: str, language: str, classifier_intent: str) -> dict[str, str]:
    return {"outcome": outcome, "kind": kind, "phrase": phrase, "language": language,
            "classifier_intent": classifier_intent}


CONVERSATIONS = {
    "now": [
        user("he took all his pills and won't wake up", "emergency_medical", 1.0,
             safety=safety("now", "medical", "won't wake up", "en", "ask_overdose_signs")),
        slot("escalation_level", "emergency"), bot("Call 911 now."),
    ],
    "asked": [
        user("what is a taper", "ask_tapering", 0.92), bot("A taper is"),
        user("my son is having a seizure", "ask_withdrawal_symptoms", 0.81,
             safety=safety("asked", "medical", "having a seizure", "en", "ask_withdrawal_symptoms")),
        bot("Is this happening now?"),
    ],
    "not-now-es": [
        user("mi hija quería morirse el año pasado", "ask_how_to_help", 0.66,
             safety=safety("not_now", "self_harm", "quería morirse", "es", "ask_how_to_help")),
        bot("988"),
    ],
    "both": [
        user("she swallowed the whole bottle and says she wants to die", "emergency_self_harm", 1.0,
             safety=safety("now", "both", "wants to die", "en", "ask_overdose_signs")),
        slot("escalation_level", "emergency"), bot("Call 911 now."),
        user("she is breathing now", "inform", 0.7), bot("Stay with her"),
    ],
    "older": [  # stored before outcomes existed: the net overrode the classifier
        user("she is not breathing", "emergency_medical", 1.0,
             safety={"phrase": "not breathing", "classifier_intent": "greet"}),
        slot("escalation_level", "emergency"), bot("Call 911 now."),
    ],
    "calm": [user("what are benzodiazepines?", "ask_what_are_benzodiazepines", 0.95), bot("They are")],
}


@pytest.fixture
def url(tmp_path: Path) -> str:
    return indexed_store(tmp_path, CONVERSATIONS, LOW)


@pytest.fixture
def client(url: str, tmp_path: Path) -> FlaskClient:
    """The console on the store, logged in as a reviewer."""
    app = create_app({**web_settings(), "database_url": url, "secret_key_file": str(tmp_path / "secret")})
    accounts.create(engine(url), "reviewer", PASSWORD, "reviewer", by="test")
    client = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/staff/login").get_data(as_text=True))
    assert token
    answer = client.post("/staff/login", data={"username": "reviewer", "password": PASSWORD,
                                               "csrf_token": token.group(1)})
    assert answer.status_code == 302
    return client


def listed(client: FlaskClient, **params: str) -> list[str]:
    page = client.get("/staff/", query_string=params)
    assert page.status_code == 200
    return sorted(set(re.findall(r'/staff/conversations/([\w-]+)\?', page.get_data(as_text=True))))


def test_decisions_of_every_stored_shape() -> None:
    current = safety("asked", "medical", "having a seizure", "en", "ask_withdrawal_symptoms")
    assert decision({"safety": current}, "ask_withdrawal_symptoms") == SafetyDecision(**current)
    older = decision({"safety": {"phrase": "wants to die", "classifier_intent": "greet"}}, "emergency_self_harm")
    assert older == SafetyDecision("now", "wants to die", "self_harm", "", "greet")
    assert older.outcome_label == "Happening now" and older.kind_label == "self-harm"
    assert decision({"safety": {"phrase": "x"}}, None) == SafetyDecision("now", "x")
    both = decision({"safety": safety("not_now", "both", "quería morirse", "es", "greet")})
    assert both is not None
    assert (both.outcome_label, both.kind_label, both.language_label) == ("Not now", "medical and self-harm", "Spanish")
    assert decision({"intent": {"name": "greet"}}, "greet") is None  # no danger: no key
    assert decision({"safety": None}) is None and decision({"safety": "now"}) is None and decision(None) is None


def test_the_index_counts_decisions_by_outcome_and_the_list_filters_by_them(url: str) -> None:
    with engine(url).connect() as conn:
        rows = {r.sender_id: r for r in conn.execute(sa.select(conversations))}
    counts = {name: (r.safety_decisions, r.safety_now, r.safety_not_now, r.safety_asked) for name, r in rows.items()}
    assert counts == {"now": (1, 1, 0, 0), "asked": (1, 0, 0, 1), "not-now-es": (1, 0, 1, 0), "both": (1, 1, 0, 0),
                      "older": (1, 1, 0, 0), "calm": (0, 0, 0, 0)}

    def found(**args: str) -> list[str]:
        from bot.staff.config import UTC
        from bot.staff.filters import Filters

        return sorted(r["sender_id"] for r in queries.list_page(engine(url), Filters.from_args(args), UTC, 1, 100).rows)

    assert found(safety="any") == ["asked", "both", "not-now-es", "now", "older"]
    assert found(safety="now") == ["both", "now", "older"]
    assert found(safety="not_now") == ["not-now-es"]
    assert found(safety="asked") == ["asked"]
    assert found(safety="asked", escalation="emergency") == []
    assert found(safety="' OR 1=1 --") == found()  # not a choice: ignored


def test_an_index_built_before_the_decisions_is_rebuilt_with_them(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    store(url, CONVERSATIONS, time.time() - 3600)
    with engine(url).begin() as connection:  # the console of before: revision 0001 and its index
        config = alembic_config(url)
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
        connection.execute(sa.text(
            "INSERT INTO staff_conversations VALUES ('older', 1, 2, 99, 1, 'emergency', 0, 0, 'emergency_medical')"))
        connection.execute(sa.text("INSERT INTO staff_index_state VALUES (1, 99)"))
    upgrade(url)
    assert index.refresh(engine(url), LOW) == len(CONVERSATIONS)
    with engine(url).connect() as conn:
        older = conn.execute(sa.select(conversations).where(conversations.c.sender_id == "older")).one()
    assert (older.turns, older.safety_decisions, older.safety_now) == (1, 1, 1)


def test_the_transcript_shows_each_decision_beside_its_message(client: FlaskClient) -> None:
    expected = {
        "now": ["now", "Happening now", "won&#39;t wake up", "medical", "English", "ask_overdose_signs"],
        "asked": ["asked", "Asked “is this happening now?”", "having a seizure", "medical", "English",
                  "ask_withdrawal_symptoms"],
        "not-now-es": ["not_now", "Not now", "quería morirse", "self-harm", "Spanish", "ask_how_to_help"],
        "both": ["now", "Happening now", "wants to die", "medical and self-harm", "English", "ask_overdose_signs"],
        "older": ["now", "Happening now", "not breathing", "medical", None, "greet"],
    }
    for sender, (code, outcome, phrase, kind, language, classifier) in expected.items():
        page = client.get(f"/staff/conversations/{sender}").get_data(as_text=True)
        blocks = re.findall(r'<div class="safety">(.*?)</dd></div>', page, re.S)
        assert len(blocks) == 1, sender
        block = blocks[0]
        assert f'<span class="badge safety-outcome safety-{code}">{outcome}</span>' in block
        assert f'<span class="safety-phrase">{phrase}</span>' in block
        assert f'<span class="safety-kind">{kind}</span>' in block
        if language:
            assert f'<span class="safety-language">{language}</span>' in block
        else:
            assert "safety-language" not in block
        assert f'<span class="safety-classifier">{classifier}</span>' in block
        # beside its own message: the message's text comes just before it
        message = page[:page.index('<div class="safety">')].rsplit('<p class="text">', 1)[1]
        assert phrase.split()[0] in message
    calm = client.get("/staff/conversations/calm").get_data(as_text=True)
    assert "Safety net" not in calm


def test_the_list_filters_by_decision_and_counts_them(client: FlaskClient) -> None:
    assert listed(client, safety="any") == ["asked", "both", "not-now-es", "now", "older"]
    assert listed(client, safety="now") == ["both", "now", "older"]
    assert listed(client, safety="not_now") == ["not-now-es"]
    assert listed(client, safety="asked") == ["asked"]
    page = client.get("/staff/", query_string={"safety": "asked"}).get_data(as_text=True)
    assert '<option value="asked" selected>Asked “is this happening now?”</option>' in page
    assert re.search(r"safety net:\s*1 asked</span>", page)


def test_exports_carry_the_decisions(client: FlaskClient) -> None:
    data = json.loads(client.get("/staff/export/conversations.json", query_string={"safety": "any"}).data)
    assert sorted(c["sender_id"] for c in data) == ["asked", "both", "not-now-es", "now", "older"]
    decisions = {c["sender_id"]: [m["safety"] for m in c["messages"] if m["role"] == "user"] for c in data}
    assert decisions["asked"] == [None, safety("asked", "medical", "having a seizure", "en",
                                               "ask_withdrawal_symptoms")]
    assert decisions["older"] == [{"outcome": "now", "phrase": "not breathing", "kind": "medical", "language": "",
                                   "classifier_intent": "greet"}]
    rows = list(csv.DictReader(io.StringIO(client.get("/staff/export/conversations.csv").get_data(as_text=True))))
    spanish = [row for row in rows if row["sender_id"] == "not-now-es" and row["role"] == "user"]
    assert json.loads(spanish[0]["safety"])["outcome"] == "not_now"
