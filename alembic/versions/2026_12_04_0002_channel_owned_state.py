"""channel-owned state: SMS reply routes in their own table; call times sealed

The SMS channel's reply route moves from `cases.sms_reply_sealed` to its own
table. A call's start and duration are now sealed with the report (SPEC 15);
the clear columns are dropped: earlier values cannot be sealed into existing
envelopes (the server cannot open them), and keeping them would keep what
SPEC 15 says must not be stored.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04 21:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_cases = sa.table(
    "cases",
    sa.column("id", sa.Integer()),
    sa.column("sms_reply_sealed", sa.LargeBinary()),
)
_routes = sa.table(
    "sms_reply_routes",
    sa.column("case_id", sa.Integer()),
    sa.column("route_sealed", sa.LargeBinary()),
)


def upgrade() -> None:
    op.create_table(
        "sms_reply_routes",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("route_sealed", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_sms_reply_routes_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_sms_reply_routes")),
    )
    op.execute(
        _routes.insert().from_select(
            ["case_id", "route_sealed"],
            sa.select(_cases.c.id, _cases.c.sms_reply_sealed).where(
                _cases.c.sms_reply_sealed.is_not(None)
            ),
        )
    )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("sms_reply_sealed")
        batch_op.drop_column("call_duration_s")
        batch_op.drop_column("call_started_at")


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("call_started_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("call_duration_s", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("sms_reply_sealed", sa.LargeBinary(), nullable=True))
    op.execute(
        _cases.update().values(
            sms_reply_sealed=sa.select(_routes.c.route_sealed)
            .where(_routes.c.case_id == _cases.c.id)
            .scalar_subquery()
        )
    )
    op.drop_table("sms_reply_routes")
