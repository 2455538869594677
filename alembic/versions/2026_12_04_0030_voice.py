"""voice: case attachments (core, channel-agnostic), voice calls and answered webhooks

`case_attachments` holds sealed files that follow a case (a spoken account's
audio, SPEC 17) with their status; `voice_calls` and `voice_answers` are the
voice channel's short-lived state, keyed by keyed hashes of the CallSid.

Revision ID: 0030
Revises: 0023
Create Date: 2026-12-04 22:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0030"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "case_attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("attached_at", sa.DateTime(), nullable=True),
        sa.Column("envelope", sa.Text(), nullable=True),
        sa.Column("envelope_sha256", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_case_attachments_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_attachments")),
    )
    with op.batch_alter_table("case_attachments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_attachments_case_id"), ["case_id"], unique=False)
    op.create_table(
        "voice_calls",
        sa.Column("call_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("turn", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(length=32), nullable=False),
        sa.Column("choices", sa.Text(), nullable=False),
        sa.Column("draft_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("call_hash", name=op.f("pk_voice_calls")),
    )
    with op.batch_alter_table("voice_calls", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_voice_calls_expires_at"), ["expires_at"], unique=False)
    op.create_table(
        "voice_answers",
        sa.Column("answer_key", sa.LargeBinary(length=32), nullable=False),
        sa.Column("twiml_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("answer_key", name=op.f("pk_voice_answers")),
    )
    with op.batch_alter_table("voice_answers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_voice_answers_expires_at"), ["expires_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("voice_answers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_voice_answers_expires_at"))
    op.drop_table("voice_answers")
    with op.batch_alter_table("voice_calls", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_voice_calls_expires_at"))
    op.drop_table("voice_calls")
    with op.batch_alter_table("case_attachments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_attachments_case_id"))
    op.drop_table("case_attachments")
