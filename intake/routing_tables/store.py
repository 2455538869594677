"""Routing tables in the database: every load is a new row; the newest is active.

Every server process asks the database which table is active at the start of
each request that routes, so `intake routing load` reaches all of them
without a restart; parsed tables are cached by row id.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from intake.errors import ServiceUnavailable
from intake.models import RoutingTableVersion
from routing.table import RoutingTable, load_table_text


class NoRoutingTable(ServiceUnavailable):
    """No table was ever loaded (run `intake serve` or `intake routing load`).

    A 503 wherever it reaches a request; callers that can do without a table
    use `RoutingState.active_or_none`.
    """

    def __init__(self) -> None:
        super().__init__("No routing table is loaded.")


@dataclass(frozen=True)
class ActiveTable:
    row_id: int
    table: RoutingTable


def store_table(session: Session, text: str, *, loaded_by: str) -> RoutingTableVersion:
    """Validate and store a table; raises routing.table.TableInvalid when bad."""
    table = load_table_text(text)
    row = RoutingTableVersion(
        version=table.version,
        source=text,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        loaded_by=loaded_by,
    )
    session.add(row)
    session.flush()
    return row


_NEWEST = select(func.max(RoutingTableVersion.id))  # built once: every report reads it


class RoutingState:
    def __init__(self) -> None:
        self._cache: dict[int, RoutingTable] = {}
        self._lock = threading.Lock()

    def active(self, session: Session) -> ActiveTable:
        row_id = session.scalar(_NEWEST)
        if row_id is None:
            raise NoRoutingTable
        return ActiveTable(row_id, self.table(session, row_id))

    def active_or_none(self, session: Session) -> RoutingTable | None:
        """The active table, or None before any table was loaded."""
        try:
            return self.active(session).table
        except NoRoutingTable:
            return None

    def table(self, session: Session, row_id: int) -> RoutingTable:
        with self._lock:
            cached = self._cache.get(row_id)
        if cached is not None:
            return cached
        source = session.scalars(
            select(RoutingTableVersion.source).where(RoutingTableVersion.id == row_id)
        ).one()
        table = load_table_text(source)
        with self._lock:
            self._cache[row_id] = table
        return table
