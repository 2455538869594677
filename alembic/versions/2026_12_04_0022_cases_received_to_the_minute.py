"""cases received to the whole minute: existing times are cut to their minute

SPEC 15 keeps `received_at` to the whole minute. Cases stored before keep
seconds; this cuts `received_at`, `due_at` (received plus whole hours, so it
stays exact) and the `routed` event's time of every existing case to the
minute. Audit entries keep their stored times: their hashes cover them.
Nothing to undo on the way down (the seconds are gone).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-04 22:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = (("cases", "received_at"), ("cases", "due_at"), ("case_events", "at"))


def _minute(column: str, dialect: str) -> str:
    if dialect == "sqlite":
        # SQLAlchemy stores SQLite datetimes as 'YYYY-MM-DD HH:MM:SS.ffffff'.
        return f"strftime('%Y-%m-%d %H:%M:00.000000', {column})"
    return f"date_trunc('minute', {column})"


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table, column in _COLUMNS:
        where = " WHERE type = 'routed'" if table == "case_events" else ""
        op.execute(f"UPDATE {table} SET {column} = {_minute(column, dialect)}{where}")  # noqa: S608 - fixed names


def downgrade() -> None:
    pass
