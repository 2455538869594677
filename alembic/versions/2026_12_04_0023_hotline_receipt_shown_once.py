"""hotline calls: when the console showed the receipt (once, on request)

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-04 22:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("hotline_calls", schema=None) as batch_op:
        batch_op.add_column(sa.Column("receipt_shown_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("hotline_calls", schema=None) as batch_op:
        batch_op.drop_column("receipt_shown_at")
