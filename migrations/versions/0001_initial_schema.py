"""Initial schema: recruiters, calls, obligations and their timeline, voicemails, outbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.create_index(
            "uq_api_tokens_live_name",
            ["name"],
            unique=True,
            sqlite_where=sa.text("revoked_at IS NULL"),
            postgresql_where=sa.text("revoked_at IS NULL"),
        )

    op.create_table(
        "recruiters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("mobile", sa.String(length=20), nullable=False),
        sa.Column("line", sa.String(length=20), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("working_hours", sa.JSON(), nullable=True),
        sa.Column("escalation_number", sa.String(length=20), nullable=True),
        sa.Column("client_identity", sa.String(length=120), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("sms_blocked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sms_error_code", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recruiters")),
    )
    with op.batch_alter_table("recruiters", schema=None) as batch_op:
        batch_op.create_index(
            "uq_recruiters_active_client_identity",
            ["client_identity"],
            unique=True,
            sqlite_where=sa.text("active AND client_identity IS NOT NULL"),
            postgresql_where=sa.text("active AND client_identity IS NOT NULL"),
        )
        batch_op.create_index(
            "uq_recruiters_active_line",
            ["line"],
            unique=True,
            sqlite_where=sa.text("active"),
            postgresql_where=sa.text("active"),
        )
        batch_op.create_index(
            "uq_recruiters_active_mobile",
            ["mobile"],
            unique=True,
            sqlite_where=sa.text("active"),
            postgresql_where=sa.text("active"),
        )

    op.create_table(
        "inbound_messages",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("message_sid", sa.String(length=64), nullable=False),
        sa.Column("from_number", sa.String(length=128), nullable=False),
        sa.Column("to_number", sa.String(length=128), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("recruiter_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["recruiter_id"],
            ["recruiters.id"],
            name=op.f("fk_inbound_messages_recruiter_id_recruiters"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_messages")),
        sa.UniqueConstraint("message_sid", name=op.f("uq_inbound_messages_message_sid")),
    )
    with op.batch_alter_table("inbound_messages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_inbound_messages_recruiter_id"), ["recruiter_id"], unique=False
        )

    op.create_table(
        "obligations",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("recruiter_id", sa.Integer(), nullable=False),
        sa.Column("caller", sa.String(length=20), nullable=True),
        sa.Column("caller_name", sa.String(length=120), nullable=True),
        sa.Column(
            "status",
            sa.Enum("open", "closed", name="obligationstatus", native_enum=False, length=24),
            nullable=False,
        ),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_missed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("missed_calls", sa.Integer(), nullable=False),
        sa.Column("reminders_sent", sa.Integer(), nullable=False),
        sa.Column("next_reminder_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("snoozed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("callback_attempts", sa.Integer(), nullable=False),
        sa.Column("sms_error_code", sa.Integer(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "close_reason",
            sa.Enum(
                "callback",
                "answered",
                "recruiter",
                "ops",
                name="closereason",
                native_enum=False,
                length=24,
            ),
            nullable=True,
        ),
        sa.Column("seconds_to_close", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["recruiter_id"], ["recruiters.id"], name=op.f("fk_obligations_recruiter_id_recruiters")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_obligations")),
    )
    with op.batch_alter_table("obligations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_obligations_caller_opened", ["caller", "opened_at", "id"], unique=False
        )
        batch_op.create_index(
            "ix_obligations_closed",
            ["closed_at"],
            unique=False,
            sqlite_where=sa.text("closed_at IS NOT NULL"),
            postgresql_where=sa.text("closed_at IS NOT NULL"),
        )
        batch_op.create_index(
            "ix_obligations_due",
            ["next_reminder_at"],
            unique=False,
            sqlite_where=sa.text("next_reminder_at IS NOT NULL"),
            postgresql_where=sa.text("next_reminder_at IS NOT NULL"),
        )
        batch_op.create_index("ix_obligations_opened", ["opened_at", "id"], unique=False)
        batch_op.create_index(
            "ix_obligations_recruiter_opened", ["recruiter_id", "opened_at", "id"], unique=False
        )
        batch_op.create_index(
            "ix_obligations_status_opened", ["status", "opened_at", "id"], unique=False
        )
        batch_op.create_index(
            "uq_obligations_open_recruiter_caller",
            ["recruiter_id", "caller"],
            unique=True,
            sqlite_where=sa.text("status = 'open'"),
            postgresql_where=sa.text("status = 'open'"),
        )

    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("sms", "call", name="outboxkind", native_enum=False, length=24),
            nullable=False,
        ),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("idempotency_key", sa.String(length=160), nullable=False),
        sa.Column("recruiter_id", sa.Integer(), nullable=True),
        sa.Column("to_number", sa.String(length=20), nullable=False),
        sa.Column("from_number", sa.String(length=20), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("call_target", sa.String(length=20), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "sending",
                "sent",
                "delivered",
                "undelivered",
                "failed",
                name="outboxstatus",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sa.String(length=120), nullable=True),
        sa.Column("twilio_sid", sa.String(length=64), nullable=True),
        sa.Column("error_code", sa.Integer(), nullable=True),
        sa.Column("error_message", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["recruiter_id"], ["recruiters.id"], name=op.f("fk_outbox_recruiter_id_recruiters")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_outbox_idempotency_key")),
        sa.UniqueConstraint("twilio_sid", name=op.f("uq_outbox_twilio_sid")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outbox_due",
            ["next_attempt_at"],
            unique=False,
            sqlite_where=sa.text("status = 'pending'"),
            postgresql_where=sa.text("status = 'pending'"),
        )
        batch_op.create_index(
            "ix_outbox_in_flight",
            ["claimed_at"],
            unique=False,
            sqlite_where=sa.text("status = 'sending'"),
            postgresql_where=sa.text("status = 'sending'"),
        )
        batch_op.create_index(batch_op.f("ix_outbox_recruiter_id"), ["recruiter_id"], unique=False)

    op.create_table(
        "calls",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("call_sid", sa.String(length=64), nullable=False),
        sa.Column("parent_call_sid", sa.String(length=64), nullable=True),
        sa.Column("direction", sa.String(length=32), nullable=False),
        sa.Column("from_number", sa.String(length=128), nullable=False),
        sa.Column("to_number", sa.String(length=128), nullable=False),
        sa.Column("caller_name", sa.String(length=120), nullable=True),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("sequence_number", sa.Integer(), nullable=True),
        sa.Column("duration_seconds", sa.Integer(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recruiter_id", sa.Integer(), nullable=True),
        sa.Column(
            "obligation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("missed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["obligation_id"], ["obligations.id"], name=op.f("fk_calls_obligation_id_obligations")
        ),
        sa.ForeignKeyConstraint(
            ["recruiter_id"], ["recruiters.id"], name=op.f("fk_calls_recruiter_id_recruiters")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calls")),
        sa.UniqueConstraint("call_sid", name=op.f("uq_calls_call_sid")),
    )
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.create_index(
            "ix_calls_missed",
            ["missed_at"],
            unique=False,
            sqlite_where=sa.text("missed_at IS NOT NULL"),
            postgresql_where=sa.text("missed_at IS NOT NULL"),
        )
        batch_op.create_index(batch_op.f("ix_calls_obligation_id"), ["obligation_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_calls_parent_call_sid"), ["parent_call_sid"], unique=False
        )
        batch_op.create_index(
            "ix_calls_recruiter_started", ["recruiter_id", "started_at", "id"], unique=False
        )
        batch_op.create_index("ix_calls_started", ["started_at", "id"], unique=False)

    op.create_table(
        "obligation_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "obligation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["obligation_id"],
            ["obligations.id"],
            name=op.f("fk_obligation_events_obligation_id_obligations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_obligation_events")),
    )
    with op.batch_alter_table("obligation_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_obligation_events_timeline", ["obligation_id", "at", "id"], unique=False
        )

    op.create_table(
        "outbox_obligations",
        sa.Column(
            "outbox_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "obligation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["obligation_id"],
            ["obligations.id"],
            name=op.f("fk_outbox_obligations_obligation_id_obligations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["outbox_id"],
            ["outbox.id"],
            name=op.f("fk_outbox_obligations_outbox_id_outbox"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("outbox_id", "obligation_id", name=op.f("pk_outbox_obligations")),
    )
    with op.batch_alter_table("outbox_obligations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_outbox_obligations_obligation_id"), ["obligation_id"], unique=False
        )

    op.create_table(
        "voicemails",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("recording_sid", sa.String(length=64), nullable=False),
        sa.Column("call_sid", sa.String(length=64), nullable=False),
        sa.Column(
            "obligation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("recording_url", sa.String(length=500), nullable=True),
        sa.Column("duration_seconds", sa.Integer(), nullable=True),
        sa.Column("recording_status", sa.String(length=24), nullable=True),
        sa.Column("transcript", sa.Text(), nullable=True),
        sa.Column("transcript_status", sa.String(length=24), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["obligation_id"],
            ["obligations.id"],
            name=op.f("fk_voicemails_obligation_id_obligations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voicemails")),
        sa.UniqueConstraint("recording_sid", name=op.f("uq_voicemails_recording_sid")),
    )
    with op.batch_alter_table("voicemails", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_voicemails_call_sid"), ["call_sid"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_voicemails_obligation_id"), ["obligation_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("voicemails", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_voicemails_obligation_id"))
        batch_op.drop_index(batch_op.f("ix_voicemails_call_sid"))

    op.drop_table("voicemails")
    with op.batch_alter_table("outbox_obligations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_obligations_obligation_id"))

    op.drop_table("outbox_obligations")
    with op.batch_alter_table("obligation_events", schema=None) as batch_op:
        batch_op.drop_index("ix_obligation_events_timeline")

    op.drop_table("obligation_events")
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_index("ix_calls_started")
        batch_op.drop_index("ix_calls_recruiter_started")
        batch_op.drop_index(batch_op.f("ix_calls_parent_call_sid"))
        batch_op.drop_index(batch_op.f("ix_calls_obligation_id"))
        batch_op.drop_index(
            "ix_calls_missed",
            sqlite_where=sa.text("missed_at IS NOT NULL"),
            postgresql_where=sa.text("missed_at IS NOT NULL"),
        )

    op.drop_table("calls")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_recruiter_id"))
        batch_op.drop_index(
            "ix_outbox_in_flight",
            sqlite_where=sa.text("status = 'sending'"),
            postgresql_where=sa.text("status = 'sending'"),
        )
        batch_op.drop_index(
            "ix_outbox_due",
            sqlite_where=sa.text("status = 'pending'"),
            postgresql_where=sa.text("status = 'pending'"),
        )

    op.drop_table("outbox")
    with op.batch_alter_table("obligations", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_obligations_open_recruiter_caller",
            sqlite_where=sa.text("status = 'open'"),
            postgresql_where=sa.text("status = 'open'"),
        )
        batch_op.drop_index("ix_obligations_status_opened")
        batch_op.drop_index("ix_obligations_recruiter_opened")
        batch_op.drop_index("ix_obligations_opened")
        batch_op.drop_index(
            "ix_obligations_due",
            sqlite_where=sa.text("next_reminder_at IS NOT NULL"),
            postgresql_where=sa.text("next_reminder_at IS NOT NULL"),
        )
        batch_op.drop_index(
            "ix_obligations_closed",
            sqlite_where=sa.text("closed_at IS NOT NULL"),
            postgresql_where=sa.text("closed_at IS NOT NULL"),
        )
        batch_op.drop_index("ix_obligations_caller_opened")

    op.drop_table("obligations")
    with op.batch_alter_table("inbound_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inbound_messages_recruiter_id"))

    op.drop_table("inbound_messages")
    with op.batch_alter_table("recruiters", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_recruiters_active_mobile",
            sqlite_where=sa.text("active"),
            postgresql_where=sa.text("active"),
        )
        batch_op.drop_index(
            "uq_recruiters_active_line",
            sqlite_where=sa.text("active"),
            postgresql_where=sa.text("active"),
        )
        batch_op.drop_index(
            "uq_recruiters_active_client_identity",
            sqlite_where=sa.text("active AND client_identity IS NOT NULL"),
            postgresql_where=sa.text("active AND client_identity IS NOT NULL"),
        )

    op.drop_table("recruiters")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_api_tokens_live_name",
            sqlite_where=sa.text("revoked_at IS NULL"),
            postgresql_where=sa.text("revoked_at IS NULL"),
        )

    op.drop_table("api_tokens")
