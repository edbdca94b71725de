"""End-to-end over HTTP: the real Rasa server (REST channel, SQLite tracker store), with and without actions."""

from __future__ import annotations

import json
import sqlite3
import uuid
from pathlib import Path
from typing import Iterator

import pytest
import requests
import yaml

from bot.core.settings import load_yaml, setting_path
from bot.processes import rasa_service
from tests.servers import ROOT, Service, free_port, say, texts

pytestmark = pytest.mark.servers

HELPLINE = "1-800-662-4357"


def stored_events(db: Path, sender: str) -> list:
    with sqlite3.connect(db) as connection:
        rows = connection.execute("SELECT data FROM events WHERE sender_id = ? ORDER BY id", (sender,)).fetchall()
    return [json.loads(row[0]) for row in rows]


# ---------------------------------------------------------------- without the action server
def test_emergencies_are_answered_when_the_action_server_is_down(rasa_without_actions: Service, sender: str) -> None:
    url = rasa_without_actions.url
    assert "Dialectical Behavior Therapy" in texts(say(url, sender, "what is dbt?"))
    answer = say(url, sender, "my son took all his pills and won't wake up")
    assert answer[0]["text"].startswith("Call 911 now")
    assert "your son" in answer[0]["text"] and "1-800-222-1222" in answer[0]["text"]
    answer = say(url, sender, "she keeps saying she wants to die")
    assert "988" in answer[0]["text"] and "911" in answer[0]["text"]


def test_a_custom_action_without_the_action_server_gets_a_calm_reply(
    rasa_without_actions: Service, sender: str
) -> None:
    url = rasa_without_actions.url
    say(url, sender, "what does withdrawal feel like")
    answer = say(url, sender, "tell me more")
    assert answer and "try again" in texts(answer) and HELPLINE in texts(answer)


def test_professional_escalation_without_the_action_server_still_gives_the_helpline(
    rasa_without_actions: Service, sender: str
) -> None:
    answer = texts(say(rasa_without_actions.url, sender, "is it safe for my son to stop his xanax cold turkey?"))
    assert "abruptly stopping can cause severe withdrawal symptoms" in answer
    assert HELPLINE in answer and "prescriber" in answer


# ---------------------------------------------------------------- with the action server
def test_done_when_cold_turkey_then_emergency(rasa_server: Service, sender: str) -> None:
    answer = texts(say(rasa_server.url, sender, "is it safe for my son to stop his xanax cold turkey?"))
    assert "abruptly stopping can cause severe withdrawal symptoms" in answer and HELPLINE in answer
    answer = say(rasa_server.url, sender, "he took all his pills and won't wake up")
    assert answer[0]["text"].startswith("Call 911 now") and "your son" in answer[0]["text"]


def test_worried_parent_journey(rasa_server: Service, sender: str) -> None:
    url = rasa_server.url
    greeting = say(url, sender, "hello")
    assert "not medical advice" in texts(greeting) and "911" in texts(greeting)
    assert any(m.get("buttons") for m in greeting)
    signs = say(url, sender, "how can i tell if my daughter is addicted to her klonopin")
    assert "slurred speech" in texts(signs)
    assert 2 <= len(signs[0]["buttons"]) <= 3
    talk = texts(say(url, sender, "how do i talk to her about it without a fight"))
    assert "avoid confrontation" in talk and "your daughter" in talk
    treatment = texts(say(url, sender, "where can she get treatment"))
    assert "findtreatment.gov" in treatment and HELPLINE in treatment
    more = say(url, sender, "tell me more")
    assert more and "try again" not in texts(more)
    assert "Take care" in texts(say(url, sender, "bye"))


def test_tell_me_more_continues_the_last_topic(rasa_server: Service, sender: str) -> None:
    url = rasa_server.url
    first = texts(say(url, sender, "what are the signs someone is addicted to benzos"))
    intro, more = say(url, sender, "tell me more")
    assert intro["text"] == "More on Signs to look for:"
    assert more["text"] and more["text"] not in first
    assert more.get("buttons")


def test_a_button_payload_answers_its_topic(rasa_server: Service, sender: str) -> None:
    assert "Cognitive Behavioral Therapy" in texts(say(rasa_server.url, sender, "/ask_cbt"))


def test_escalations_are_recorded_in_the_conversation(rasa_server: Service, sender: str) -> None:
    say(rasa_server.url, sender, "i need to talk to a real person")
    say(rasa_server.url, sender, "my husband is not breathing")
    levels = [e["value"] for e in stored_events(rasa_server.db_path, sender)
              if e["event"] == "slot" and e["name"] == "escalation_level"]
    assert levels == ["professional", "emergency"]


def test_conversation_survives_a_restart(rasa_server: Service, sender: str) -> None:
    """Nothing is lost: the Rasa server is restarted (a new process), reads the stored conversation and carries on
    with its topic ("tell me more" without the stored topic would offer the topic menu instead)."""
    first = say(rasa_server.url, sender, "what are the signs someone is addicted to benzos")
    assert rasa_server.proc is not None
    before = rasa_server.proc.pid
    rasa_server.stop()
    rasa_server.start()
    assert rasa_server.proc.pid != before and rasa_server.proc.poll() is None
    _, more = say(rasa_server.url, sender, "tell me more")
    assert more["text"] and more["text"] not in texts(first)
    assert more["buttons"] == first[0]["buttons"]  # the related topics of the answer given before the restart
    events = stored_events(rasa_server.db_path, sender)
    assert [e["text"] for e in events if e["event"] == "user"] == [
        "what are the signs someone is addicted to benzos", "tell me more",
    ]


def test_logs_hold_no_message_text(rasa_server: Service, sender: str) -> None:
    secret = "my nephew zebediah takes klonopin"
    say(rasa_server.url, sender, secret)
    assert "zebediah" not in rasa_server.log.read_text(errors="replace")


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "message",
    [
        "",
        "   \n\t ",
        "x" * 20000,
        "why " * 5000,
        "😢😢😢",
        "¿Es peligroso dejar el Xanax de golpe?",
        "<script>alert('x')</script>",
        "<img src=x onerror=alert(1)>",
        "'; DROP TABLE events; --",
        "\u0000\u200b",
    ],
)
def test_bad_input_gets_a_calm_answer_and_the_conversation_goes_on(
    rasa_server: Service, sender: str, message: str
) -> None:
    answer = say(rasa_server.url, sender, message)
    assert answer and all(m.get("text") for m in answer)
    assert "Traceback" not in texts(answer)
    assert "Dialectical Behavior Therapy" in texts(say(rasa_server.url, sender, "what is dbt"))


@pytest.mark.parametrize(
    "body, content_type, status",
    [
        ("{not json", "application/json", 400),
        ("[1, 2]", "application/json", 400),
        ('{"message": "hi"}', "application/json", 400),
        ('{"sender": "a"}', "application/json", 400),
        ('{"sender": 5, "message": "hi"}', "application/json", 400),
        ('{"sender": "a", "message": ["hi"]}', "application/json", 400),
        ('{"sender": "a", "message": "hi", "metadata": 3}', "application/json", 400),
        ("sender=a&message=hi", "application/x-www-form-urlencoded", 415),
        (json.dumps({"sender": "a", "message": "x" * 60000}), "application/json", 413),
    ],
)
def test_bad_requests_get_a_4xx_and_the_server_keeps_serving(
    rasa_server: Service, sender: str, body: str, content_type: str, status: int
) -> None:
    response = requests.post(
        f"{rasa_server.url}/webhooks/rest/webhook", data=body.encode(), headers={"Content-Type": content_type},
        timeout=30,
    )
    assert response.status_code == status
    assert "Traceback" not in response.text
    assert say(rasa_server.url, sender, "hi")


# ---------------------------------------------------------------- the safety net's three outcomes over HTTP
NOT_NOW_NOTE = "If this is happening right now, call 911"
# How the emergency answers (utter_emergency_*) start: what a non-emergency never gets first.
EMERGENCY_STARTS = ("Call 911", "Please call or text 988", "Llame")
CALM_FAILURE = "Sorry, I couldn't answer that"


def turn(url: str, sender: str, text: str, timeout: float = 60) -> tuple:
    """One turn over the REST channel, whatever its status: (status, the bot's messages)."""
    answer = requests.post(f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=timeout)
    try:
        body = answer.json()
    except ValueError:
        body = []
    return answer.status_code, body if isinstance(body, list) else []


def first_text(messages: list) -> str:
    return (messages[0].get("text") or "") if messages else ""


# the crisis sets tuned on (each blind set became one once its first run was read): the third net's list
CRISIS_TUNING_SETS = load_yaml(str(setting_path("safety_patterns")))["learned"]["sets"]


def crisis_cases(path: str) -> list:
    return yaml.safe_load((ROOT / path).read_text())["cases"]


@pytest.mark.parametrize("path", CRISIS_TUNING_SETS)
def test_crisis_cases_without_the_action_server(rasa_without_actions: Service, path: str) -> None:
    """Issue 8 item 8: every case of the crisis tuning sets over HTTP, the action server down, one sender each.
    An emergency's first reply gives 911 or 988 (a Spanish one starts in Spanish: "Llame ..." or the question
    "¿Está pasando ahora mismo? ..."); a non-emergency's first reply is never an emergency answer. All failures of a
    set are collected and reported together; one test per set, so that all the sets (over 10,000 cases) are
    not one test against the 15-minute timeout."""
    failures = []
    for number, case in enumerate(crisis_cases(path)):
        status, messages = turn(rasa_without_actions.url, f"crisis-{number}-{uuid.uuid4().hex[:8]}", case["text"])
        first = first_text(messages)
        if case["expect"] == "not_emergency":
            wrong = status != 200 or not first or first.startswith(EMERGENCY_STARTS)
        elif case.get("lang") == "es":  # the emergency answer or the question, in Spanish first, with 911 / 988
            wrong = not first.startswith(("Llame", "¿Está pasando")) or ("911" not in first and "988" not in first)
        else:
            wrong = "911" not in first and "988" not in first
        if wrong:
            failures.append(f"{case['expect']} ({case.get('lang')}) {case['text']!r} -> {status} {first[:90]!r}")
    assert not failures, f"{len(failures)} of {len(crisis_cases(path))} cases:\n" + "\n".join(failures)


@pytest.mark.parametrize("with_actions", [False, True], ids=["no-action-server", "action-server"])
@pytest.mark.parametrize(
    "message, answer",
    [
        ("what does an overdose look like", "respiratory depression or fatal overdose"),  # the source's own words
        ("what happens if he has a seizure during withdrawal", "withdrawal symptoms"),
    ],
)
def test_a_not_now_message_gets_the_information_answer_and_the_closing_line(
    request: pytest.FixtureRequest, sender: str, with_actions: bool, message: str, answer: str
) -> None:
    url = request.getfixturevalue("rasa_server" if with_actions else "rasa_without_actions").url
    status, messages = turn(url, sender, message)
    everything = texts(messages)
    assert status == 200, everything
    first = first_text(messages)
    assert not first.startswith(EMERGENCY_STARTS) and "Is this happening right now?" not in first, first
    assert CALM_FAILURE not in everything and "I'm not sure I understood" not in everything, everything
    assert "Did you mean" not in everything, everything
    if answer:
        assert answer in first, first
    assert first.rstrip().endswith(NOT_NOW_NOTE + "."), first
    assert everything.count(NOT_NOW_NOTE) == 1, everything


UNCLEAR = "she had a seizure yesterday after stopping her klonopin, is that withdrawal"


def safety_check(url: str, sender: str) -> dict:
    """Sends UNCLEAR; the "Is this happening right now?" message, checked."""
    status, messages = turn(url, sender, UNCLEAR)
    assert status == 200 and messages, messages
    question = messages[0]
    assert question["text"].startswith("Is this happening right now?"), question
    assert "911" in question["text"] and "988" in question["text"]
    buttons = {b["payload"]: b["title"] for b in question.get("buttons", [])}
    assert set(buttons) == {"/emergency_medical", "/deny"}, buttons
    assert buttons["/emergency_medical"].startswith("Yes") and buttons["/deny"].startswith("No"), buttons
    return question


def test_an_unclear_message_is_asked_about_and_no_gets_the_answer_to_the_question(
    rasa_server: Service, sender: str
) -> None:
    safety_check(rasa_server.url, sender)
    status, messages = turn(rasa_server.url, sender, "/deny")
    assert status == 200
    assert messages[0]["text"] == "Thank you. Here is what I can tell you:", messages
    assert "Abruptly stopping can cause severe withdrawal symptoms" in messages[1]["text"], messages
    assert not any(m["text"].startswith(EMERGENCY_STARTS) for m in messages)
    # the answered topic is the conversation's last topic now: "tell me more" continues it
    more = texts(say(rasa_server.url, sender, "tell me more"))
    assert more and CALM_FAILURE not in more and "Abruptly stopping" not in more


@pytest.mark.parametrize("reply", ["/emergency_medical", "yes"])
def test_an_unclear_message_answered_yes_gets_the_emergency_answer(
    rasa_server: Service, sender: str, reply: str
) -> None:
    safety_check(rasa_server.url, sender)
    status, messages = turn(rasa_server.url, sender, reply)
    assert status == 200 and messages[0]["text"].startswith("Call 911 now"), messages


# ---------------------------------------------------------------- the conversation store unreachable
@pytest.fixture(scope="module")
def rasa_store_down(model: Path, workdir: Path) -> Iterator[Service]:
    """The assistant whose SQLite tracker store is in a directory that does not exist: every read and write of a
    conversation fails (after short retries) and is recorded in the turn's TurnHealth. No action server."""
    port = free_port()
    endpoints = workdir / f"endpoints-store-down-{port}.yml"
    endpoints.write_text(
        f"action_endpoint:\n  url: http://127.0.0.1:{free_port()}/webhook\n"
        "tracker_store:\n  type: bot.rasa.tracker_store.RedactingSQLTrackerStore\n"
        f"  dialect: sqlite\n  db: {workdir / 'no-such-directory' / 'conversations.db'}\n  retry_seconds: 0.3\n"
        "nlg:\n  type: bot.rasa.nlg.SafetyNoteNLG\n"
    )
    service = rasa_service(port, endpoints, workdir / f"rasa-store-down-{port}.log").start()
    yield service
    service.stop()


def test_store_down_an_emergency_still_gets_the_988_answer(rasa_store_down: Service, sender: str) -> None:
    """Issue 8 item 6."""
    status, messages = turn(rasa_store_down.url, sender, "my son just told me he wants to kill himself")
    assert status in (200, 503), status
    first = first_text(messages)
    assert first.startswith("Please call or text 988 now"), messages
    assert "988 Suicide & Crisis Lifeline" in first and "911" in first


def test_store_down_an_ordinary_question_gets_the_calm_reply(rasa_store_down: Service, sender: str) -> None:
    status, messages = turn(rasa_store_down.url, sender, "what is cbt")
    assert status == 503, (status, messages)
    answer = texts(messages)
    assert answer.startswith(CALM_FAILURE) and HELPLINE in answer and "911" in answer, answer
    assert "Cognitive Behavioral Therapy" not in answer and "Traceback" not in answer


# ---------------------------------------------------------------- follow-ups in context
def test_and_after_that_follows_the_source_order(rasa_server: Service, sender: str) -> None:
    url = rasa_server.url
    assert "Detoxification is the first and most critical phase" in texts(say(url, sender, "what is detox"))
    after = texts(say(url, sender, "and after that?"))
    assert "detox alone is not a complete solution" in after, after
    following = texts(say(url, sender, "what comes next"))
    assert "Therapy plays a crucial role" in following, following


def test_is_that_safe_after_the_tapering_answer(rasa_server: Service, sender: str) -> None:
    url = rasa_server.url
    assert "gradually taper" in texts(say(url, sender, "what does tapering off benzos mean"))
    answer = texts(say(url, sender, "is that safe?"))
    assert "reducing the risk of dangerous withdrawal reactions" in answer, answer
    assert "doesn't cover that" not in answer


def test_is_that_safe_after_a_topic_the_source_says_nothing_about_safety(rasa_server: Service, sender: str) -> None:
    url = rasa_server.url
    assert "Cognitive Behavioral Therapy" in texts(say(url, sender, "what is cbt"))
    answer = texts(say(url, sender, "is that safe?"))
    assert "doesn't cover that" in answer and HELPLINE in answer, answer
