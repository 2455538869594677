"""indexes for the coordination figures: cases by received time, events by type

The dashboard, `GET /api/v1/stats` and the aggregate export (SPEC 12) select
the cases received in a period (in one country or in all) and join their
`referred` and `closed` events; these indexes keep that interactive at
100,000 cases. No data changes.

Revision ID: 0050
Revises: 0010
Create Date: 2026-12-07 05:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0050"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_cases_received_at", "cases", ["received_at"])
    op.create_index("ix_cases_country_received_at", "cases", ["country", "received_at"])
    op.create_index("ix_case_events_type_case_id", "case_events", ["type", "case_id"])


def downgrade() -> None:
    op.drop_index("ix_case_events_type_case_id", table_name="case_events")
    op.drop_index("ix_cases_country_received_at", table_name="cases")
    op.drop_index("ix_cases_received_at", table_name="cases")
