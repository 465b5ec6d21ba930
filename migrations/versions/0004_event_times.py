"""Calls remember whom a recruiter reached (or tried to) and when, so a late miss finds it.

Revision ID: 0004_event_times
Revises: 0003_pledge
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_event_times"
down_revision: str | None = "0003_pledge"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.add_column(sa.Column("party", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("party_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(
            "ix_calls_recruiter_party",
            ["recruiter_id", "party", "party_at"],
            unique=False,
            sqlite_where=sa.text("party IS NOT NULL"),
            postgresql_where=sa.text("party IS NOT NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_index("ix_calls_recruiter_party")
        batch_op.drop_column("party_at")
        batch_op.drop_column("party")
