"""Live hand-off: the queue of conversations a family asked to hand to a person, and who has them (bot.staff.live).

The messages themselves are in Rasa's tracker (bot events whose metadata names the staff member), never here.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff_live_chats",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("sender_id", sa.String(255), nullable=False, index=True),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("requested_at", sa.DateTime, nullable=False),
        sa.Column("deadline", sa.DateTime, nullable=False),
        sa.Column("taken_by", sa.String(64)),
        sa.Column("agent_name", sa.String(64)),
        sa.Column("taken_at", sa.DateTime),
        sa.Column("ended_at", sa.DateTime),
        sa.Column("ended_by", sa.String(64)),
        sa.Column("last_staff_at", sa.DateTime),
    )


def downgrade() -> None:
    op.drop_table("staff_live_chats")
