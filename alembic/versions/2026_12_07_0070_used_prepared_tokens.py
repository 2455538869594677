"""used prepared tokens: a keyed hash of each accepted token's id, until it expires

SPEC 11: a prepared token is accepted once, across processes and concurrent
requests. The primary key is what decides; rows hold no content (a keyed hash
of the token's random id and its expiry) and go once the token has expired.

Revision ID: 0070
Revises: 0010
Create Date: 2026-12-07 05:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0070"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "used_prepared_tokens",
        sa.Column("id_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id_hash", name=op.f("pk_used_prepared_tokens")),
    )
    op.create_index(
        op.f("ix_used_prepared_tokens_expires_at"), "used_prepared_tokens", ["expires_at"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_used_prepared_tokens_expires_at"), table_name="used_prepared_tokens")
    op.drop_table("used_prepared_tokens")
