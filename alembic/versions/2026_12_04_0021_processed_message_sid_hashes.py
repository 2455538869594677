"""processed SMS: a keyed hash of the MessageSid instead of the SID, no case link

SPEC 15: exactly-once keeps a keyed hash of the MessageSid, never the SID.
The hash needs the server secret, which a migration does not read, so the
rows written so far cannot be converted: they are dropped with the old table.
What that costs: a message processed before the upgrade and delivered again
after it would be processed again. Twilio redelivers within seconds, not
across a server upgrade (the servers are stopped while `intake db upgrade`
runs), and their stored replies were due to go anyway. `case_id`, the link
from a MessageSid to its case, is not kept. The downgrade recreates the old
table empty.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-04 22:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_table("processed_messages")
    op.create_table(
        "processed_messages",
        sa.Column("sid_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("reply_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("reply_expires_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("sid_hash", name=op.f("pk_processed_messages")),
    )
    op.create_index(
        op.f("ix_processed_messages_received_at"), "processed_messages", ["received_at"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_processed_messages_received_at"), table_name="processed_messages")
    op.drop_table("processed_messages")
    op.create_table(
        "processed_messages",
        sa.Column("message_sid", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("reply_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("reply_expires_at", sa.DateTime(), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("message_sid", name=op.f("pk_processed_messages")),
    )
