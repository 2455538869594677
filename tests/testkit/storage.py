"""What a stolen disk would show: every stored value, and the SQLite files as on disk."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import make_url

from intake.context import AppContext
from intake.models import Base


def database_bytes(context: AppContext) -> bytes:
    """Every value of every row, plus the SQLite file and its WAL as they are on disk."""
    chunks: list[bytes] = []
    with context.sessions() as session:
        for table in Base.metadata.sorted_tables:
            for row in session.execute(select(table)):
                for value in row:
                    chunks.append(value if isinstance(value, bytes) else str(value).encode())
    url = make_url(context.settings.resolved_database_url)
    if url.get_backend_name() == "sqlite" and url.database:
        for suffix in ("", "-wal", "-journal"):
            path = Path(url.database + suffix)
            if path.exists():
                chunks.append(path.read_bytes())
    return b"\n".join(chunks)
