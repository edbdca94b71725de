"""Alerts: escalations that need a person (staff_alerts), their deliveries by webhook and e-mail, the worker's place
in the events (bot.staff.alerts).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

SENDER = sa.String(255)


def upgrade() -> None:
    op.create_table(
        "staff_alerts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("sender_id", SENDER, nullable=False, index=True),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("event_id", sa.Integer, nullable=False),
        sa.Column("message_at", sa.Float, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False, index=True),
        sa.Column("handled_by", sa.String(64)),
        sa.Column("handled_at", sa.DateTime),
    )
    op.create_table(
        "staff_alert_deliveries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("alert_id", sa.Integer, nullable=False, index=True),
        sa.Column("sender_id", SENDER, nullable=False, index=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_at", sa.DateTime, nullable=False),
        sa.Column("last_error", sa.String(255), nullable=False),
        sa.Column("delivered_at", sa.DateTime),
    )
    op.create_table(
        "staff_alert_state",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("last_event_id", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    for table in ("staff_alert_state", "staff_alert_deliveries", "staff_alerts"):
        op.drop_table(table)
