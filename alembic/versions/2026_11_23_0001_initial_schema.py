"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-23 14:27:09.610254
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("case_ref", sa.String(length=32), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_events_hash")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_events_case_ref"), ["case_ref"], unique=False)

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("available_at", sa.DateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("failed_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_outbox_dedupe_key")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outbox_pending", ["sent_at", "failed_at", "available_at"], unique=False
        )

    op.create_table(
        "processed_messages",
        sa.Column("message_sid", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("reply_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("reply_expires_at", sa.DateTime(), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("message_sid", name=op.f("pk_processed_messages")),
    )
    op.create_table(
        "rate_counters",
        sa.Column("scope", sa.String(length=32), nullable=False),
        sa.Column("source", sa.LargeBinary(length=32), nullable=False),
        sa.Column("window_start", sa.DateTime(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "source", "window_start", name=op.f("pk_rate_counters")),
    )
    with op.batch_alter_table("rate_counters", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rate_counters_expires_at"), ["expires_at"], unique=False
        )

    op.create_table(
        "routing_tables",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=128), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("loaded_at", sa.DateTime(), nullable=False),
        sa.Column("loaded_by", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_tables")),
    )
    op.create_table(
        "sms_conversations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sender_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("step", sa.String(length=32), nullable=False),
        sa.Column("choices", sa.Text(), nullable=False),
        sa.Column("draft_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_conversations")),
        sa.UniqueConstraint("sender_hash", name=op.f("uq_sms_conversations_sender_hash")),
    )
    with op.batch_alter_table("sms_conversations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sms_conversations_expires_at"), ["expires_at"], unique=False
        )

    op.create_table(
        "staff_users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=128), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("focal_point_id", sa.String(length=128), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("totp_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("totp_last_step", sa.Integer(), nullable=True),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_users")),
        sa.UniqueConstraint("username", name=op.f("uq_staff_users_username")),
    )
    op.create_table(
        "system_values",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_system_values")),
    )
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_ref", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("reporter_type", sa.String(length=16), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("affiliation", sa.String(length=64), nullable=False),
        sa.Column("victim_is_child", sa.Boolean(), nullable=True),
        sa.Column("consent_contact_me", sa.Boolean(), nullable=False),
        sa.Column("consent_share_with_investigators", sa.Boolean(), nullable=False),
        sa.Column("consent_refer_to_services", sa.Boolean(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(), nullable=True),
        sa.Column("overdue_marked_at", sa.DateTime(), nullable=True),
        sa.Column("rule_id", sa.String(length=128), nullable=False),
        sa.Column("table_version", sa.String(length=128), nullable=False),
        sa.Column("routing_table_id", sa.Integer(), nullable=True),
        sa.Column("envelope", sa.Text(), nullable=False),
        sa.Column("envelope_sha256", sa.String(length=64), nullable=False),
        sa.Column("receipt_lookup", sa.LargeBinary(length=32), nullable=False),
        sa.Column("receipt_public_key", sa.LargeBinary(length=32), nullable=False),
        sa.Column("call_started_at", sa.DateTime(), nullable=True),
        sa.Column("call_duration_s", sa.Integer(), nullable=True),
        sa.Column("sms_reply_sealed", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(
            ["routing_table_id"],
            ["routing_tables.id"],
            name=op.f("fk_cases_routing_table_id_routing_tables"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases")),
        sa.UniqueConstraint("case_ref", name=op.f("uq_cases_case_ref")),
        sa.UniqueConstraint("receipt_lookup", name=op.f("uq_cases_receipt_lookup")),
    )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cases_country"), ["country"], unique=False)
        batch_op.create_index("ix_cases_country_id", ["country", "id"], unique=False)
        batch_op.create_index("ix_cases_status_due_at", ["status", "due_at"], unique=False)

    op.create_table(
        "staff_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["staff_users.id"],
            name=op.f("fk_staff_tokens_user_id_staff_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_staff_tokens_token_hash")),
    )
    with op.batch_alter_table("staff_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_tokens_user_id"), ["user_id"], unique=False)

    op.create_table(
        "case_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_events_case_id_cases"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_events")),
    )
    with op.batch_alter_table("case_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_events_case_id"), ["case_id"], unique=False)

    op.create_table(
        "case_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("author", sa.String(length=128), nullable=False),
        sa.Column("sealed_for_reporter", sa.Text(), nullable=False),
        sa.Column("envelope", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_case_messages_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_messages")),
    )
    with op.batch_alter_table("case_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_messages_case_id"), ["case_id"], unique=False)

    op.create_table(
        "case_recipients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("focal_point_id", sa.String(length=128), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_case_recipients_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_recipients")),
        sa.UniqueConstraint("case_id", "focal_point_id", name="uq_case_recipients_case_fp"),
    )
    with op.batch_alter_table("case_recipients", schema=None) as batch_op:
        batch_op.create_index(
            "ix_case_recipients_fp_case", ["focal_point_id", "case_id"], unique=False
        )

    op.create_table(
        "hotline_calls",
        sa.Column("call_id_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("imported_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_hotline_calls_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("call_id_hash", name=op.f("pk_hotline_calls")),
    )

    # The audit chain starts from a known head (see intake/audit.py).
    system_values = sa.table(
        "system_values", sa.column("name", sa.String), sa.column("value", sa.LargeBinary)
    )
    op.bulk_insert(system_values, [{"name": "audit_head", "value": b"0" * 64}])


def downgrade() -> None:
    op.drop_table("hotline_calls")
    with op.batch_alter_table("case_recipients", schema=None) as batch_op:
        batch_op.drop_index("ix_case_recipients_fp_case")

    op.drop_table("case_recipients")
    with op.batch_alter_table("case_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_messages_case_id"))

    op.drop_table("case_messages")
    with op.batch_alter_table("case_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_events_case_id"))

    op.drop_table("case_events")
    with op.batch_alter_table("staff_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_tokens_user_id"))

    op.drop_table("staff_tokens")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_status_due_at")
        batch_op.drop_index("ix_cases_country_id")
        batch_op.drop_index(batch_op.f("ix_cases_country"))

    op.drop_table("cases")
    op.drop_table("system_values")
    op.drop_table("staff_users")
    with op.batch_alter_table("sms_conversations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sms_conversations_expires_at"))

    op.drop_table("sms_conversations")
    op.drop_table("routing_tables")
    with op.batch_alter_table("rate_counters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rate_counters_expires_at"))

    op.drop_table("rate_counters")
    op.drop_table("processed_messages")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_pending")

    op.drop_table("outbox")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_events_case_ref"))

    op.drop_table("audit_events")
