"""Staff console units on a temporary SQLite store: migrations, the conversation index, filters (including SQL
injection attempts), exports, accounts and lock-out, retention. No servers needed."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

from bot.staff import accounts, changes, exports, index, queries, retention
from bot.staff.audit import utcnow
from bot.staff.config import UTC
from bot.staff.db import audit, engine, events, flags, metadata, tags
from bot.staff.filters import Filters
from bot.staff.migrate import upgrade
from tests.staff_store import action, bot, indexed_store, slot, store, user

LOW = 0.7
DAY = 86400.0
INJECTIONS = [
    "' OR '1'='1",
    "x'; DROP TABLE events; --",
    "\" OR 1=1 --",
    "%",
    "_",
    "emergency' OR escalation != '",
    "1) UNION SELECT sender_id, data FROM events --",
    "\\",
    "!",
    "!%",
    "ask_tapering%",
]


CONVERSATIONS = {
    "calm": [
        user("what are benzodiazepines?", "ask_what_are_benzodiazepines", 0.95), action("utter_x"), bot("They are"),
    ],
    "emergency": [
        user("hello", "greet", 0.99), bot("Hello"),
        user("he is not breathing", "emergency_medical", 1.0, safety={"phrase": "not breathing"}),
        slot("escalation_level", "emergency"), bot("Call 911 now."),
    ],
    "professional": [
        user("I need to speak to a counselor", "request_human", 0.9), slot("escalation_level", "professional"),
        bot("helpline"),
    ],
    "fallback": [
        user("qwe rty", "nlu_fallback", 0.4), action("utter_please_rephrase"), bot("Could you rephrase?"),
        user("zzz", "affirm", 0.3), action("utter_please_rephrase"), bot("Could you rephrase?"),
        user("what is 50% of a 0_5 pill", "ask_tapering", 0.8), bot("Tapering"),
    ],
}


@pytest.fixture
def url(tmp_path: Path) -> str:
    return indexed_store(tmp_path, CONVERSATIONS, LOW)


def listed(url: str, **args: str) -> list[str]:
    page = queries.list_page(engine(url), Filters.from_args(args), UTC, 1, 100)
    assert page.total == len(page.rows)
    return sorted(row["sender_id"] for row in page.rows)


def test_migrations_create_the_current_schema_and_are_idempotent(url: str) -> None:
    upgrade(url)  # a second run changes nothing
    inspector = sa.inspect(engine(url))
    for table in metadata.sorted_tables:
        assert {c["name"] for c in inspector.get_columns(table.name)} == set(table.columns.keys()), table.name
    assert inspector.has_table("staff_alembic_version")


def test_index_summarises_each_conversation(url: str) -> None:
    rows = {r["sender_id"]: r for r in queries.list_page(engine(url), Filters(), UTC, 1, 100).rows}
    assert rows["emergency"]["escalation"] == "emergency"
    assert rows["professional"]["escalation"] == "professional"
    assert rows["calm"]["escalation"] == "none"
    assert rows["fallback"]["fallbacks"] == 2  # nlu_fallback and a rephrase after a low-confidence guess
    assert rows["fallback"]["low_confidence"] == 2
    assert rows["emergency"]["turns"] == 2
    assert rows["emergency"]["topics"] == ["emergency_medical"]  # greet is small talk, not a topic
    assert [r["sender_id"] for r in queries.list_page(engine(url), Filters(), UTC, 1, 100).rows][0] == "fallback"


def test_index_picks_up_new_events_incrementally(url: str) -> None:
    store(url, {"later": [user("what is tapering", "ask_tapering", 0.9)]}, time.time())
    assert index.refresh(engine(url), LOW) == 1
    assert index.refresh(engine(url), LOW) == 0
    assert "later" in listed(url)


def test_filters(url: str) -> None:
    assert listed(url, escalation="emergency") == ["emergency"]
    assert listed(url, escalation="any") == ["emergency", "professional"]
    assert listed(url, escalation="none") == ["calm", "fallback"]
    assert listed(url, intent="request_human") == ["professional"]
    assert listed(url, low="1") == ["fallback"]
    assert listed(url, q="BREATHING") == ["emergency"]
    assert listed(url, q="50% of a 0_5") == ["fallback"]
    assert listed(url, q="50%") == ["fallback"]
    changes.add_tag(engine(url), "tester", "calm", "follow-up")
    changes.set_reviewed(engine(url), "tester", "calm", True)
    assert listed(url, tag="follow-up") == ["calm"]
    assert listed(url, reviewed="yes") == ["calm"]
    assert "calm" not in listed(url, reviewed="no")
    started = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 3600))  # all four started an hour ago (UTC)
    assert len(listed(url, **{"from": started, "to": started})) == 4
    assert listed(url, **{"to": "2001-01-01"}) == []


@pytest.mark.parametrize("attack", INJECTIONS)
def test_sql_injection_in_any_filter_changes_nothing(url: str, attack: str) -> None:
    eng = engine(url)
    with eng.connect() as conn:
        before = conn.execute(sa.select(sa.func.count()).select_from(events)).scalar()
    everything = listed(url)
    for key in ("q", "intent", "tag", "escalation", "reviewed", "from", "to", "low", "page"):
        found = listed(url, **{key: attack})
        assert set(found) <= set(everything)
        if key in ("intent", "tag"):
            assert found == []
        if key == "q" and attack not in ("%", "_", "\\", "!"):
            assert found == []
    with eng.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(events)).scalar() == before


def test_transcript_shows_intents_escalations_and_the_safety_override(url: str) -> None:
    messages = queries.transcript(engine(url), "emergency")
    assert [m.role for m in messages] == ["user", "bot", "user", "escalation", "bot"]
    assert messages[2].safety is not None and messages[2].safety.phrase == "not breathing"
    assert messages[2].escalation == "emergency" and messages[3].escalation == "emergency"
    fallback = queries.transcript(engine(url), "fallback")
    assert [m.fallback for m in fallback if m.role == "user"] == [True, True, False]


NASTY = [
    ("ask_tapering", 'he said: "cut it in half" - is that ok?'),
    ("ask_tapering", "- starts with a dash"),
    ("request_human", "call me at [phone](home) or {not json}"),
    ("request_human", "two\nlines\tand\x07 a bell"),
    ("emergency_medical", "# not a comment: yes"),
    ("emergency_medical", "ça va? élan – “quotes”"),
]


def test_nlu_snippet_loads_with_rasa_reader() -> None:
    text = exports.nlu_yaml(NASTY + [NASTY[0]])
    assert 'version: "3.1"' in text
    data = RasaYAMLReader().reads(text)
    got = sorted((m.get("intent"), m.get("text")) for m in data.intent_examples)
    expected = sorted((intent, exports.nlu_example(t)) for intent, t in NASTY)
    assert got == expected
    assert not data.entity_examples


def test_empty_nlu_snippet_loads() -> None:
    assert RasaYAMLReader().reads(exports.nlu_yaml([])).intent_examples == []


def test_flagged_examples_come_from_the_events(url: str) -> None:
    message = next(m for m in queries.transcript(engine(url), "fallback") if m.role == "user")
    changes.flag(engine(url), "tester", "fallback", message.event_id, message.intent, "out_of_scope")
    changes.flag(engine(url), "tester", "fallback", message.event_id, message.intent, "ask_tapering")  # replaces
    assert queries.flagged_examples(engine(url)) == [("ask_tapering", "qwe rty")]


def test_csv_cells_cannot_become_formulas() -> None:
    conversation = {"sender_id": "s", "started": "t", "escalation": "none", "fallbacks": 0, "topics": [], "tags": [],
                    "reviewed_by": None, "messages": [{"role": "user", "text": "=HYPERLINK(\"x\")"}]}
    assert "'=HYPERLINK" in exports.conversations_csv([conversation])


def test_passwords_are_argon2_and_lockout_after_five_failures(url: str) -> None:
    eng = engine(url)
    accounts.create(eng, "rev", "a long enough password", "reviewer", by="test")
    with eng.connect() as conn:
        stored = conn.execute(sa.text("select password_hash from staff_users where username = 'rev'")).scalar()
    assert stored.startswith("$argon2id$") and "a long enough password" not in stored
    assert accounts.login(eng, "rev", "a long enough password", 5, 15).user is not None
    for _ in range(4):
        assert accounts.login(eng, "rev", "wrong", 5, 15).locked_until is None
    assert accounts.login(eng, "rev", "wrong", 5, 15).locked_until is not None
    assert accounts.login(eng, "rev", "a long enough password", 5, 15).user is None  # locked, even when right
    with eng.begin() as conn:  # 15 minutes later
        conn.execute(sa.text("update staff_users set locked_until = :t"), {"t": utcnow() - timedelta(seconds=1)})
    assert accounts.login(eng, "rev", "a long enough password", 5, 15).user is not None
    with pytest.raises(accounts.AccountError):
        accounts.create(eng, "short", "too short", "reviewer", by="test")
    with pytest.raises(accounts.AccountError):
        accounts.create(eng, "x' OR 1=1", "a long enough password", "admin", by="test")
    with eng.connect() as conn:
        details = " ".join(r[0] for r in conn.execute(sa.select(audit.c.detail)))
    assert "a long enough password" not in details and "wrong" not in details


def test_retention_deletes_only_old_conversations(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'retention.db'}"
    now = time.time()
    store(url, {"old-1": CONVERSATIONS["calm"], "old-2": CONVERSATIONS["fallback"]}, now - 40 * DAY)
    store(url, {"recent": CONVERSATIONS["calm"]}, now - 5 * DAY)
    # an old conversation that continued recently is kept
    store(url, {"ongoing": CONVERSATIONS["calm"]}, now - 40 * DAY)
    store(url, {"ongoing": [user("still there?", "greet", 0.9)]}, now - DAY)
    upgrade(url)
    eng = engine(url)
    index.refresh(eng, LOW)
    changes.add_tag(eng, "t", "old-1", "x")
    changes.add_tag(eng, "t", "recent", "x")
    old_event = next(m for m in queries.transcript(eng, "old-1") if m.role == "user")
    changes.flag(eng, "t", "old-1", old_event.event_id, old_event.intent, "greet")

    assert retention.apply(eng, 30, now) == 2
    with eng.connect() as conn:
        senders = {r[0] for r in conn.execute(sa.select(events.c.sender_id).distinct())}
        tagged = {r[0] for r in conn.execute(sa.select(tags.c.sender_id))}
        flagged = conn.execute(sa.select(sa.func.count()).select_from(flags)).scalar()
    assert senders == {"recent", "ongoing"}
    assert tagged == {"recent"} and flagged == 0
    assert sorted(r["sender_id"] for r in queries.list_page(eng, Filters(), UTC).rows) == ["ongoing", "recent"]
    assert retention.apply(eng, 30, now) == 0
    with pytest.raises(ValueError):
        retention.apply(eng, 0, now)


def test_dashboard_figures(url: str) -> None:
    figures = queries.dashboard(engine(url), UTC, time.time() - 7 * DAY)
    assert figures["total"] == 4
    assert sum(figures["emergency"]) == 1 and sum(figures["professional"]) == 1
    assert {t["intent"] for t in figures["topics"]} >= {"emergency_medical", "request_human", "ask_tapering"}
    assert 0 < max(figures["fallback_rate"]) <= 100


def test_the_benchmark_clones_at_scale_and_its_queries_answer_right(url: str, tmp_path: Path) -> None:
    """The benchmark's clone (10,000 copies of the four conversations, a quarter each) and the queries it times,
    checked at that scale (its timings are a report: python -m tools.staff_bench, figures in README, not asserted)."""
    from tools import staff_bench as bench

    big = f"sqlite:///{tmp_path / 'big.db'}"
    bench.clone(url, big, 10000, days=90)
    timings = bench.measure(big, LOW, repeats=1)
    assert list(timings) == ["index build (first visit)", *bench.QUERIES]
    eng = engine(big)

    def total(**args: str) -> int:
        return queries.list_page(eng, Filters.from_args(args), UTC).total

    assert total() == 10000
    assert total(escalation="emergency") == total(escalation="professional") == 2500
    assert total(escalation="any") == 5000
    assert total(low="1", reviewed="no") == 2500  # the fallback conversation's copies
    assert total(q="breathing") == 2500
    assert total(intent="ask_withdrawal_symptoms") == 0
    page_100 = queries.list_page(eng, Filters(), UTC, 100, 50)
    assert len(page_100.rows) == 50 and not {r["sender_id"] for r in page_100.rows} & {
        r["sender_id"] for r in queries.list_page(eng, Filters(), UTC, 1, 50).rows
    }
