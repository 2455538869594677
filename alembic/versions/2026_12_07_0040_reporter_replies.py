"""reporter replies: who sent a case message, and the inbox's unseen-reply mark (SPEC 16)

Revision ID: 0040
Revises: 0050
Create Date: 2026-12-07 06:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0040"
down_revision: str | None = "0050"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("case_messages", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("sender", sa.String(length=16), server_default="focal_point", nullable=False)
        )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reply_unseen", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("reply_unseen")
    with op.batch_alter_table("case_messages", schema=None) as batch_op:
        batch_op.drop_column("sender")
