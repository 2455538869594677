"""The aggregate export's rows (SPEC section 12), shaped for system-wide SEA reporting.

One row per combination present of year (received), country, affiliation (the
agency of the alleged perpetrator), category, victim_is_child, status and
outcome (of the `closed` event, empty before), with its count: one GROUP BY
in the database. The file prints no total, so each row is suppressed on its
own: a count from 1 to N is "<N+1>" (the one rule, `suppression.suppress`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, select, true
from sqlalchemy.orm import Session

from intake.coordination.suppression import Cell, suppress
from intake.models import Case, CaseEvent
from intake.settings import Settings
from intake.vocab import OUTCOMES

COLUMNS = (
    "year",
    "country",
    "affiliation",
    "category",
    "victim_is_child",
    "status",
    "outcome",
    "count",
)
CLOSED = "closed"
DEFAULT_SMALL: int = Settings.model_fields["small_cell"].default

Key = tuple[int, str, str, str, bool | None, str, str | None]


@dataclass(frozen=True)
class AggregateRow:
    year: int
    country: str
    affiliation: str
    category: str
    victim_is_child: bool | None
    status: str
    outcome: str | None
    count: Cell

    def values(self) -> tuple[object, ...]:
        return tuple(getattr(self, column) for column in COLUMNS)


def aggregate_rows(
    session: Session, year: int | None, country: str | None, *, small: int = DEFAULT_SMALL
) -> Iterator[AggregateRow]:
    """The rows of `year` (None: every year) and `country` (None: every country), in order."""
    counts = dict(_counted(session, year, country))
    printed = suppress({"rows": counts}, small=small).breakdowns["rows"]
    for key in sorted(counts, key=_order):
        yield AggregateRow(*key, count=printed[key])


def _counted(session: Session, year: int | None, country: str | None) -> Iterator[tuple[Key, int]]:
    dialect = session.get_bind().dialect.name
    closed = CaseEvent.__table__.alias("closed_event")
    outcome = _outcome(closed.c.detail)
    year_label = _year(dialect, Case.received_at)
    dimensions = (
        year_label,
        Case.country,
        Case.affiliation,
        Case.category,
        Case.victim_is_child,
        Case.status,
        outcome,
    )
    statement = (
        select(*dimensions, func.count(Case.id))
        .select_from(Case)
        .outerjoin(closed, and_(closed.c.case_id == Case.id, closed.c.type == CLOSED))
        .where(_year_range(year), Case.country == country if country is not None else true())
        .group_by(*dimensions)
    )
    for found_year, *rest, count in session.execute(statement):
        yield (int(found_year), *rest), int(count)


def _year(dialect: str, column: Any) -> ColumnElement[Any]:
    if dialect == "sqlite":
        return func.strftime("%Y", column)
    return func.to_char(column, "YYYY")


def _year_range(year: int | None) -> ColumnElement[bool]:
    if year is None:
        return true()
    start = datetime(year, 1, 1, tzinfo=UTC)
    end = datetime(year + 1, 1, 1, tzinfo=UTC) if year < 9999 else None
    after = Case.received_at >= start
    return and_(after, Case.received_at < end) if end is not None else after


def _outcome(detail: Any) -> ColumnElement[Any]:
    """The outcome in the closed event's clear detail (`{"outcome":"…"}`), in portable SQL:
    the outcomes are a fixed vocabulary, none a part of another with its quotes."""
    return case(*((detail.like(f'%"outcome":"{name}"%'), name) for name in OUTCOMES), else_=None)


def _order(key: Key) -> tuple[object, ...]:
    year, country, affiliation, category, child, status, outcome = key
    child_order = {True: 0, False: 1, None: 2}[child]
    return (year, country, affiliation, category, child_order, status, outcome or "")
