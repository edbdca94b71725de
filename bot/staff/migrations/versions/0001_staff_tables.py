"""The staff console's tables: users, conversation index, flags, tags, notes, reviews, audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

SENDER = sa.String(255)


def upgrade() -> None:
    op.create_table(
        "staff_users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("failed_logins", sa.Integer, nullable=False),
        sa.Column("locked_until", sa.DateTime),
        sa.Column("session_version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("last_login_at", sa.DateTime),
    )
    op.create_table(
        "staff_conversations",
        sa.Column("sender_id", SENDER, primary_key=True),
        sa.Column("started_at", sa.Float, nullable=False, index=True),
        sa.Column("last_at", sa.Float, nullable=False),
        sa.Column("last_event_id", sa.Integer, nullable=False),
        sa.Column("turns", sa.Integer, nullable=False),
        sa.Column("escalation", sa.String(16), nullable=False, index=True),
        sa.Column("fallbacks", sa.Integer, nullable=False),
        sa.Column("low_confidence", sa.Integer, nullable=False),
        sa.Column("topics", sa.String(2000), nullable=False),
    )
    op.create_table(
        "staff_conversation_intents",
        sa.Column("sender_id", SENDER, primary_key=True),
        sa.Column("intent", sa.String(255), primary_key=True, index=True),
        sa.Column("count", sa.Integer, nullable=False),
    )
    op.create_table(
        "staff_index_state",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("last_event_id", sa.Integer, nullable=False),
    )
    op.create_table(
        "staff_flags",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("sender_id", SENDER, nullable=False, index=True),
        sa.Column("event_id", sa.Integer, nullable=False, unique=True),
        sa.Column("predicted_intent", sa.String(255)),
        sa.Column("corrected_intent", sa.String(255), nullable=False),
        sa.Column("flagged_by", sa.String(64), nullable=False),
        sa.Column("flagged_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "staff_tags",
        sa.Column("sender_id", SENDER, primary_key=True),
        sa.Column("tag", sa.String(64), primary_key=True, index=True),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "staff_notes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("sender_id", SENDER, nullable=False, index=True),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "staff_reviews",
        sa.Column("sender_id", SENDER, primary_key=True),
        sa.Column("reviewed_by", sa.String(64), nullable=False),
        sa.Column("reviewed_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "staff_audit",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", sa.DateTime, nullable=False, index=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("sender_id", SENDER, index=True),
        sa.Column("detail", sa.String(1000), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "staff_audit", "staff_reviews", "staff_notes", "staff_tags", "staff_flags", "staff_index_state",
        "staff_conversation_intents", "staff_conversations", "staff_users",
    ):
        op.drop_table(table)
