"""Back to the developers: the filtered conversations as CSV or JSON, the flagged messages as Rasa NLU YAML."""

from __future__ import annotations

import csv
import io
import json
import re
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, request

from bot.staff import index, queries
from bot.staff.audit import record
from bot.staff.auth import username
from bot.staff.blueprint import bp, db, settings
from bot.staff.config import UTC
from bot.staff.filters import Filters

CSV_COLUMNS = (
    "sender_id", "conversation_started", "escalation", "fallbacks", "topics", "tags", "reviewed_by",
    "event_id", "time", "role", "text", "intent", "confidence", "entities", "safety", "flagged_as",
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")


def _iso(epoch: float, tz: ZoneInfo) -> str:
    return datetime.fromtimestamp(epoch, UTC).astimezone(tz).isoformat(timespec="seconds")


def conversations_json(rows: list[dict[str, Any]], messages: dict[str, list[queries.Message]],
                       flags: dict[int, str], tz: ZoneInfo) -> list[dict[str, Any]]:
    """The conversations with their metadata and messages (flagged messages carry their corrected intent)."""
    return [
        {
            "sender_id": row["sender_id"],
            "started": _iso(row["started_at"], tz),
            "turns": row["turns"],
            "escalation": row["escalation"],
            "fallbacks": row["fallbacks"],
            "topics": row["topics"],
            "tags": row["tags"],
            "reviewed_by": row["reviewed_by"],
            "messages": [
                _message_json(m, flags, tz) for m in messages.get(row["sender_id"], []) if m.role in ("user", "bot")
            ],
        }
        for row in rows
    ]


def _message_json(message: queries.Message, flags: dict[int, str], tz: ZoneInfo) -> dict[str, Any]:
    out: dict[str, Any] = {"event_id": message.event_id, "time": _iso(message.timestamp, tz), "role": message.role,
                           "text": message.text}
    if message.role == "user":
        out.update(intent=message.intent, confidence=message.confidence, entities=message.entities,
                   safety=message.safety.as_dict() if message.safety else None,
                   flagged_as=flags.get(message.event_id))
    return out


def conversations_csv(conversations: list[dict[str, Any]]) -> str:
    """One row per message, with its conversation's columns repeated; cells safe to open in a spreadsheet."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for c in conversations:
        head = [c["sender_id"], c["started"], c["escalation"], c["fallbacks"], ";".join(c["topics"]),
                ";".join(c["tags"]), c["reviewed_by"] or ""]
        for m in c["messages"] or [{}]:
            writer.writerow([_cell(v) for v in head + [
                m.get("event_id", ""), m.get("time", ""), m.get("role", ""), m.get("text", ""), m.get("intent") or "",
                "" if m.get("confidence") is None else round(m["confidence"], 3),
                json.dumps(m.get("entities") or [], ensure_ascii=False) if m.get("entities") else "",
                json.dumps(m["safety"], ensure_ascii=False) if m.get("safety") else "",
                m.get("flagged_as") or "",
            ]])
    return buffer.getvalue()


def _cell(value: Any) -> Any:
    """Text a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def nlu_yaml(examples: Iterable[tuple[str, str]], when: str = "") -> str:
    """The flagged messages as a Rasa NLU YAML snippet (version "3.1"), one block per corrected intent."""
    grouped: dict[str, list[str]] = defaultdict(list)
    for intent, text in examples:
        example = nlu_example(text)
        if example and example not in grouped[intent]:
            grouped[intent].append(example)
    lines = [
        f"# Messages flagged as misunderstood in the staff console{when}, under the intent they should have had.",
        "# Check each example, then merge the blocks into data/nlu.yml and retrain (see README).",
        'version: "3.1"',
        "nlu:" if grouped else "nlu: []",
    ]
    for intent in sorted(grouped):
        lines += [f"- intent: {intent}", "  examples: |"] + [f"    - {text}" for text in grouped[intent]]
    return "\n".join(lines) + "\n"


def nlu_example(text: str) -> str:
    """One line of plain text: no control characters, no accidental [entity](annotation) syntax."""
    text = " ".join(_CONTROL.sub(" ", text).split())
    return text.replace("](", "] (").replace("]{", "] {")


def _download(body: str, mimetype: str, filename: str) -> Response:
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _filtered() -> tuple[Filters, list[dict[str, Any]]]:
    index.refresh(db(), settings().low_confidence)
    filters = Filters.from_args(request.args)
    rows = list(queries.iter_filtered(db(), filters, settings().tz, settings().export_limit))
    senders = [row["sender_id"] for row in rows]
    flags = queries.flags_by_event(db(), senders)
    data = conversations_json(rows, queries.transcripts(db(), senders), flags, settings().tz)
    detail = f"{request.path.rsplit('/', 1)[-1]}: {len(rows)} conversations, {filters.describe()}"
    with db().begin() as conn:
        record(conn, username(), "export", detail=detail)
    return filters, data


@bp.get("/export/conversations.json")
def export_json() -> Response:
    _, data = _filtered()
    return _download(json.dumps(data, ensure_ascii=False, indent=1), "application/json", "conversations.json")


@bp.get("/export/conversations.csv")
def export_csv() -> Response:
    _, data = _filtered()
    return _download(conversations_csv(data), "text/csv", "conversations.csv")


@bp.get("/export/nlu.yml")
def export_nlu() -> Response:
    examples = queries.flagged_examples(db())
    with db().begin() as conn:
        record(conn, username(), "export", detail=f"nlu.yml: {len(examples)} flagged messages")
    when = datetime.now(settings().tz).strftime(" (exported %Y-%m-%d)")
    return _download(nlu_yaml(examples, when), "application/x-yaml", "flagged_nlu.yml")
