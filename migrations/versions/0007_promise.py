"""The overdue webhook follows the promise: a partial index on the open obligations not yet
announced `obligation.overdue`, in promise order.

Revision ID: 0007_promise
Revises: 0006_courtesy
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_promise"
down_revision: str | None = "0006_courtesy"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UNANNOUNCED = "status = 'open' AND overdue_at IS NULL"


def upgrade() -> None:
    op.create_index(
        "ix_obligations_overdue_unannounced",
        "obligations",
        ["status", "promised_by", "id"],
        sqlite_where=sa.text(_UNANNOUNCED),
        postgresql_where=sa.text(_UNANNOUNCED),
    )


def downgrade() -> None:
    op.drop_index("ix_obligations_overdue_unannounced", table_name="obligations")
