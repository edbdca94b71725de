"""End-to-end over HTTP: the real Rasa server (REST channel, SQLite tracker store), with and without actions."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import requests

from tests.servers import Service, say, texts

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
    more = say(url, sender, "tell me more")
    assert more[0]["text"] and more[0]["text"] not in first
    assert more[0].get("buttons")


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
    more = say(rasa_server.url, sender, "tell me more")
    assert more[0]["text"] and more[0]["text"] not in texts(first)
    assert more[0]["buttons"] == first[0]["buttons"]  # the related topics of the answer given before the restart
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
