"""keyed audit chain: each entry records how its hash was made

Entries written so far keep their plain SHA-256 hashes (`hash_version` 1):
re-hashing them with the server secret would need the secret file, which a
migration does not read, and would erase the evidence they are. Every entry
appended from now on is keyed (`hash_version` 2). Because the first keyed
entry covers the last unkeyed hash, the old entries are protected by the new
ones: rewriting them breaks the first keyed link.

`system_values.audit_legacy_until` records the last entry written before this
upgrade: any unkeyed entry after it is a rebuild without the secret file, and
`intake audit verify` says so. A fresh database records 0 (every entry keyed).

Revision ID: 0020
Revises: 0002
Create Date: 2026-12-04 21:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEGACY_UNTIL = "audit_legacy_until"
_events = sa.table("audit_events", sa.column("id", sa.Integer()))
_values = sa.table(
    "system_values", sa.column("name", sa.String()), sa.column("value", sa.LargeBinary())
)


def upgrade() -> None:
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("hash_version", sa.Integer(), nullable=False, server_default="1")
        )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.alter_column("hash_version", server_default=None)
    last = op.get_bind().scalar(sa.select(sa.func.coalesce(sa.func.max(_events.c.id), 0)))
    op.execute(_values.insert().values(name=LEGACY_UNTIL, value=str(int(last or 0)).encode()))


def downgrade() -> None:
    # Keyed entries cannot be checked by older code; it would report them as changed.
    op.execute(_values.delete().where(_values.c.name == LEGACY_UNTIL))
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_column("hash_version")
