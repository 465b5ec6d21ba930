"""Event webhooks (subscriptions, events, deliveries), the audit log, recording deletions,
and the obligation's overdue and redaction markers.

Revision ID: 0005_integrations
Revises: 0004_event_times
Create Date: 2026-12-07
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0005_integrations"
down_revision: str | None = "0004_event_times"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _time(name: str, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _where(condition: str) -> dict[str, Any]:
    return {"sqlite_where": sa.text(condition), "postgresql_where": sa.text(condition)}


def upgrade() -> None:
    with op.batch_alter_table("obligations", schema=None) as batch_op:
        batch_op.add_column(_time("overdue_at", nullable=True))
        batch_op.add_column(_time("redacted_at", nullable=True))
    _webhook_tables()
    _care_tables()


def _webhook_tables() -> None:
    op.create_table(
        "webhook_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("event_types", sa.JSON(), nullable=False),
        sa.Column("secret", sa.String(length=100), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("disabled_reason", sa.String(length=500), nullable=True),
        _time("failing_since", nullable=True),
        _time("created_at"),
        _time("updated_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_subscriptions")),
    )
    op.create_table(
        "webhook_events",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("obligation_id", BIG_ID, nullable=True),
        _time("at"),
        sa.Column("data", sa.JSON(), nullable=True),
        _time("fanned_out_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["obligation_id"],
            ["obligations.id"],
            name=op.f("fk_webhook_events_obligation_id_obligations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_events")),
    )
    op.create_index(
        op.f("ix_webhook_events_obligation_id"), "webhook_events", ["obligation_id"], unique=False
    )
    op.create_index(
        "ix_webhook_events_waiting", "webhook_events", ["id"], **_where("fanned_out_at IS NULL")
    )
    _deliveries_table()


def _deliveries_table() -> None:
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("event_id", BIG_ID, nullable=False),
        sa.Column("message_id", sa.String(length=40), nullable=False),
        sa.Column("event_type", sa.String(length=40), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "sending",
                "delivered",
                "failed",
                name="webhookdeliverystatus",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _time("next_attempt_at"),
        _time("give_up_at"),
        _time("claimed_at", nullable=True),
        _time("last_attempt_at", nullable=True),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        _time("delivered_at", nullable=True),
        _time("created_at"),
        _time("updated_at"),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["webhook_events.id"],
            name=op.f("fk_webhook_deliveries_event_id_webhook_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["webhook_subscriptions.id"],
            name=op.f("fk_webhook_deliveries_subscription_id_webhook_subscriptions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
    )
    table = "webhook_deliveries"
    op.create_index(op.f("ix_webhook_deliveries_event_id"), table, ["event_id"], unique=False)
    op.create_index(
        "uq_webhook_deliveries_subscription_message",
        table,
        ["subscription_id", "message_id"],
        unique=True,
    )
    op.create_index("ix_webhook_deliveries_log", table, ["subscription_id", "created_at", "id"])
    op.create_index(
        "ix_webhook_deliveries_due", table, ["next_attempt_at"], **_where("status = 'pending'")
    )
    op.create_index(
        "ix_webhook_deliveries_in_flight", table, ["claimed_at"], **_where("status = 'sending'")
    )


def _care_tables() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", BIG_ID, nullable=False),
        _time("at"),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_table(
        "recording_deletions",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("recording_sid", sa.String(length=64), nullable=False),
        _time("requested_at"),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _time("deleted_at", nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recording_deletions")),
        sa.UniqueConstraint("recording_sid", name=op.f("uq_recording_deletions_recording_sid")),
    )
    op.create_index(
        "ix_recording_deletions_waiting",
        "recording_deletions",
        ["id"],
        **_where("deleted_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_table("recording_deletions")
    op.drop_table("audit_log")
    op.drop_table("webhook_deliveries")
    op.drop_table("webhook_events")
    op.drop_table("webhook_subscriptions")
    with op.batch_alter_table("obligations", schema=None) as batch_op:
        batch_op.drop_column("redacted_at")
        batch_op.drop_column("overdue_at")
