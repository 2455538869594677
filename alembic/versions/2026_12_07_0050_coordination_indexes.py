"""indexes for the coordination figures: cases by received time, events by type

The dashboard, `GET /api/v1/stats` and the aggregate export (SPEC 12) select
the cases received in a period (in one country or in all) and join their
`referred` and `closed` events; these covering indexes let each figure be read
from an index alone, which keeps the stats interactive at 100,000 cases
(bench/bench_coordination.py). No data changes.

Revision ID: 0050
Revises: 0070
Create Date: 2026-12-07 05:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0050"
down_revision: str | None = "0070"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_CASES = {
    # counts of a period in the GROUP BY's own order: no sort
    "ix_cases_figures": ["country", "category", "channel", "status", "received_at"],
    # hours to acknowledge and cases a month, by period, from the index alone
    "ix_cases_received_at_ack": ["received_at", "acknowledged_at"],
    "ix_cases_country_received_at_ack": ["country", "received_at", "acknowledged_at"],
}


def upgrade() -> None:
    for name, columns in _CASES.items():
        op.create_index(name, "cases", columns)
    op.create_index("ix_case_events_type_case_id_at", "case_events", ["type", "case_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_case_events_type_case_id_at", table_name="case_events")
    for name in reversed(_CASES):
        op.drop_index(name, table_name="cases")
