"""Caller courtesy: the promise (promised_by), the caller's text-back, opt-outs per line.

Revision ID: 0006_courtesy
Revises: 0005_integrations
Create Date: 2026-12-07
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0006_courtesy"
down_revision: str | None = "0005_integrations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OPEN = "status = 'open'"
_PENDING = "caller_text = 'pending'"
_CALLER_TEXT = (
    "pending queued sent withheld opted_out landline disabled recruiter_off too_late "
    "cancelled failed"
).split()


def _where(condition: str) -> dict[str, Any]:
    return {"sqlite_where": sa.text(condition), "postgresql_where": sa.text(condition)}


def upgrade() -> None:
    with op.batch_alter_table("recruiters", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("caller_text", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch_op.add_column(sa.Column("caller_text_template", sa.String(320), nullable=True))
    with op.batch_alter_table("obligations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("promised_by", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column(
                "caller_text",
                sa.Enum(*_CALLER_TEXT, name="callertext", native_enum=False, length=24),
                nullable=True,
            )
        )
    op.create_index(
        "ix_obligations_promised_open",
        "obligations",
        ["status", "promised_by", "id"],
        **_where(_OPEN),
    )
    op.create_index("ix_obligations_caller_text_pending", "obligations", ["id"], **_where(_PENDING))
    op.create_table(
        "caller_opt_outs",
        sa.Column("line", sa.String(20), nullable=False),
        sa.Column("caller", sa.String(20), nullable=False),
        sa.Column("reason", sa.String(24), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("line", "caller", name="pk_caller_opt_outs"),
    )


def downgrade() -> None:
    op.drop_table("caller_opt_outs")
    op.drop_index("ix_obligations_caller_text_pending", table_name="obligations")
    op.drop_index("ix_obligations_promised_open", table_name="obligations")
    with op.batch_alter_table("obligations", schema=None) as batch_op:
        batch_op.drop_column("caller_text")
        batch_op.drop_column("promised_by")
    with op.batch_alter_table("recruiters", schema=None) as batch_op:
        batch_op.drop_column("caller_text_template")
        batch_op.drop_column("caller_text")
