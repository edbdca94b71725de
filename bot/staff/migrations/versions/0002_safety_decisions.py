"""The safety net's decisions per conversation in the index (the list's "Safety net" filter).

Adds the counts to staff_conversations and empties the index, which bot.staff.index rebuilds from the events on the
next page view (it holds nothing else).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

COLUMNS = ("safety_decisions", "safety_now", "safety_not_now", "safety_asked")


def upgrade() -> None:
    with op.batch_alter_table("staff_conversations") as batch:
        for name in COLUMNS:
            batch.add_column(sa.Column(name, sa.Integer, nullable=False, server_default="0"))
    for table in ("staff_conversations", "staff_conversation_intents", "staff_index_state"):
        op.execute(sa.text(f"DELETE FROM {table}"))


def downgrade() -> None:
    with op.batch_alter_table("staff_conversations") as batch:
        for name in COLUMNS:
            batch.drop_column(name)
