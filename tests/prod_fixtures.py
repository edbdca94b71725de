"""Helpers for the production-profile tests: a stack on free ports, and what PostgreSQL holds per conversation."""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import List, Optional, Tuple

import sqlalchemy as sa

from bench.load import Conversation, Result
from bot.core.privacy import redact_all
from scripts.prod.stack import Stack, test_settings

PROVIDER = "https://provider.example"  # a site allowed to embed the widget (ALLOWED_ORIGINS)


def start_stack(rasa_servers: int = 2) -> Stack:
    """The production profile on free ports, its state in a new directory under /tmp (readable by the `postgres`
    user, which pytest's own temporary directories are not)."""
    directory = Path(tempfile.mkdtemp(prefix="prod-test-"))
    directory.chmod(0o755)
    return Stack(test_settings(directory, rasa_servers, ALLOWED_ORIGINS=PROVIDER)).start()


def stop_stack(stack: Stack) -> None:
    stack.stop()
    shutil.rmtree(stack.settings.dir, ignore_errors=True)


@lru_cache(maxsize=1)
def holdout_messages() -> Tuple[str, ...]:
    """The family questions of the held-out NLU set: a realistic message mix."""
    from tools.evaluate import holdout_examples

    return tuple(text for text, _ in holdout_examples())


@dataclass
class Block:
    """One stored user message and the bot messages stored after it."""

    user: Optional[str]
    bots: List[Optional[str]] = field(default_factory=list)


def stored_conversation(engine: sa.engine.Engine, sender: str) -> Tuple[List[Block], int]:
    """The sender's user/bot events from the events table in id order, as blocks; and its number of sessions."""
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT type_name, data FROM events WHERE sender_id = :sender ORDER BY id"), {"sender": sender}
        ).fetchall()
    blocks: List[Block] = []
    sessions = 0
    for type_name, data in rows:
        event = json.loads(data)
        if type_name == "session_started":
            sessions += 1
        elif type_name == "user":
            blocks.append(Block(event.get("text")))
        elif type_name == "bot":
            if not blocks:
                blocks.append(Block(None))
            blocks[-1].bots.append(event.get("text"))
    return blocks, sessions


def conversation_problems(engine: sa.engine.Engine, conversation: Conversation) -> List[str]:
    """How the stored conversation differs from what its client sent and received.

    Every answered turn must be stored once, in order, with exactly the answers the client got. A turn that got no
    answer, or needed a retry, may have left stored attempts of its own (0 to `attempts` blocks, the last of which,
    for an answered turn, is the answered one) but nothing else.
    """
    blocks, sessions = stored_conversation(engine, conversation.sender)
    problems = [] if sessions == 1 else [f"{sessions} sessions"]
    position = 0
    for number, turn in enumerate(conversation.turns):
        text = redact_all(turn.message)
        same = 0
        while position + same < len(blocks) and blocks[position + same].user == text:
            same += 1
        if turn.ok:
            if same == 0 or same > turn.attempts:
                problems.append(f"turn {number}: stored {same} times, {turn.attempts} attempt(s)")
            elif blocks[position + same - 1].bots != turn.answers:
                problems.append(f"turn {number}: stored answers differ from the answers received")
        elif same > turn.attempts:
            problems.append(f"turn {number} (not answered): stored {same} times")
        position += same
    if position != len(blocks):
        problems.append(f"{len(blocks) - position} stored message(s) nobody sent, or out of order")
    return [f"{conversation.sender}: {problem}" for problem in problems]


def storage_problems(stack: Stack, result: Result) -> List[str]:
    engine = sa.create_engine(stack.postgres.url)
    try:
        return [problem for talk in result.conversations for problem in conversation_problems(engine, talk)]
    finally:
        engine.dispose()
