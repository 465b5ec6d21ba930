"""Recruiters may publish their pledge record: `public_pledge` and a unique `slug`.

Revision ID: 0003_pledge
Revises: 0002_loop
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_pledge"
down_revision: str | None = "0002_loop"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SLUG_WHERE = "active AND slug IS NOT NULL"


def upgrade() -> None:
    with op.batch_alter_table("recruiters", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("public_pledge", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("slug", sa.String(length=60), nullable=True))
        batch_op.create_index(
            "uq_recruiters_active_slug",
            ["slug"],
            unique=True,
            sqlite_where=sa.text(_SLUG_WHERE),
            postgresql_where=sa.text(_SLUG_WHERE),
        )


def downgrade() -> None:
    with op.batch_alter_table("recruiters", schema=None) as batch_op:
        batch_op.drop_index("uq_recruiters_active_slug")
        batch_op.drop_column("slug")
        batch_op.drop_column("public_pledge")
