"""The coordination figures, computed by the database (SPEC section 12).

Counts are SQL aggregates (one GROUP BY, twelve range counts), read from
covering indexes (migration 0050); the groups, never the cases, are summed
here. The hours are PostgreSQL's `percentile_cont`; on SQLite, which has no
such aggregate, the one column of hours is sorted here (see `_percentiles`).
The dialect differences (hours between two timestamps, the percentiles) are
the only branches. Nothing here suppresses: see `stats.py`.

- Counts, total and hours cover the cases received in the period.
- `overdue` and the overdue list are every case overdue *now* in the country
  (a stuck case is never hidden by the period chosen).
- `months` are the 12 calendar months up to the current one, whatever the period.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, select, true
from sqlalchemy.orm import Session, selectinload

from intake.cases.service import overdue_clause
from intake.coordination.period import Period
from intake.models import Case, CaseEvent
from intake.vocab import CATEGORIES, CHANNELS, STATUSES

MONTHS = 12
REFERRED = "referred"
OVERDUE_LIST_MAX = 200
_PERCENTS = (50, 90)


@dataclass(frozen=True)
class Hours:
    """Hours from received to a step: over how many cases, median, 90th percentile."""

    cases: int
    median: float | None
    p90: float | None


@dataclass(frozen=True)
class OverdueCase:
    case_ref: str
    country: str
    category: str
    recipients: list[str]
    due_at: datetime
    hours_late: float


@dataclass(frozen=True)
class Figures:
    period: Period
    by_country: dict[str, int]
    by_category: dict[str, int]
    by_channel: dict[str, int]
    by_status: dict[str, int]
    total: int
    overdue: int
    to_acknowledged: Hours
    to_referred: Hours
    months: list[tuple[str, int]]  # ("YYYY-MM", count), oldest first, the current month last


def compute(session: Session, period: Period, country: str | None, *, now: datetime) -> Figures:
    in_scope = _country(country)
    in_period = and_(in_scope, Case.received_at >= period.start, Case.received_at < period.end)
    by_country, by_category, by_channel, by_status = _breakdowns(session, in_scope, period)
    dialect = session.get_bind().dialect.name
    acknowledged = select(
        _hours(dialect, Case.acknowledged_at, Case.received_at).label("hours")
    ).where(in_period, Case.acknowledged_at.is_not(None))
    referred = (
        select(_hours(dialect, CaseEvent.at, Case.received_at).label("hours"))
        .select_from(CaseEvent)
        .join(Case, CaseEvent.case_id == Case.id)
        .where(CaseEvent.type == REFERRED, in_period)
    )
    return Figures(
        period=period,
        by_country=by_country,
        by_category=by_category,
        by_channel=by_channel,
        by_status=by_status,
        total=sum(by_status.values()),
        overdue=int(
            session.scalar(select(func.count(Case.id)).where(in_scope, overdue_clause(now))) or 0
        ),
        to_acknowledged=_percentiles(session, dialect, acknowledged),
        to_referred=_percentiles(session, dialect, referred),
        months=_months(session, in_scope, now=now),
    )


def overdue_cases(
    session: Session, country: str | None, *, now: datetime, limit: int = OVERDUE_LIST_MAX
) -> list[OverdueCase]:
    """The cases overdue now, the longest overdue first (no content: clear metadata only)."""
    statement = (
        select(Case)
        .where(_country(country), overdue_clause(now))
        .options(selectinload(Case.recipients))
        .order_by(Case.due_at, Case.id)
        .limit(limit)
    )
    return [
        OverdueCase(
            case_ref=case.case_ref,
            country=case.country,
            category=case.category,
            recipients=[r.focal_point_id for r in case.recipients if r.active],
            due_at=case.due_at,
            hours_late=(now - case.due_at).total_seconds() / 3600,
        )
        for case in session.scalars(statement)
    ]


def _country(country: str | None) -> ColumnElement[bool]:
    return Case.country == country if country is not None else true()


def _breakdowns(
    session: Session, in_scope: ColumnElement[bool], period: Period
) -> tuple[dict[str, int], dict[str, int], dict[str, int], dict[str, int]]:
    """One GROUP BY over the four dimensions; the groups (never the cases) are summed here.

    The period is compared through coalesce() on purpose: offered a range on
    received_at, SQLite's planner takes a received_at index and looks up every
    case, then sorts them (ten times slower at 100,000 cases) instead of reading
    ix_cases_figures, which holds every column in the GROUP BY's own order."""
    received = func.coalesce(Case.received_at, Case.received_at)
    statement = (
        select(Case.country, Case.category, Case.channel, Case.status, func.count())
        .where(in_scope, received >= period.start, received < period.end)
        .group_by(Case.country, Case.category, Case.channel, Case.status)
    )
    countries: Counter[str] = Counter()
    categories: Counter[str] = Counter(dict.fromkeys(CATEGORIES, 0))
    channels: Counter[str] = Counter(dict.fromkeys(CHANNELS, 0))
    statuses: Counter[str] = Counter(dict.fromkeys(STATUSES, 0))
    for country, category, channel, status, count in session.execute(statement):
        countries[country] += count
        categories[category] += count
        channels[channel] += count
        statuses[status] += count
    return (
        dict(sorted(countries.items())),
        dict(categories),
        dict(channels),
        dict(statuses),
    )


def _hours(dialect: str, later: Any, earlier: Any) -> ColumnElement[Any]:
    if dialect == "sqlite":
        return (func.julianday(later) - func.julianday(earlier)) * 24.0
    return func.extract("epoch", later - earlier) / 3600.0


def _percentiles(session: Session, dialect: str, durations: Select[Any]) -> Hours:
    """The median and 90th percentile of one column of hours (linear interpolation).

    PostgreSQL computes them itself (`percentile_cont`). SQLite has no such
    aggregate, and its window functions sort in a slow temporary b-tree, so
    there the database returns the one column of hours, read from a covering
    index, and it is sorted here: the quickest way on SQLite, measured in
    bench/bench_coordination.py."""
    values = durations.subquery()
    if dialect == "postgresql":
        cases, median, p90 = session.execute(
            select(
                func.count(),
                *(func.percentile_cont(p / 100).within_group(values.c.hours) for p in _PERCENTS),
            ).select_from(values)
        ).one()
        if not cases:
            return Hours(cases=0, median=None, p90=None)
        return Hours(cases=int(cases), median=float(median), p90=float(p90))
    hours = sorted(float(h) for h in session.scalars(select(values.c.hours)))
    if not hours:
        return Hours(cases=0, median=None, p90=None)
    median, p90 = (_interpolate(hours, percent) for percent in _PERCENTS)
    return Hours(cases=len(hours), median=median, p90=p90)


def _interpolate(ordered: list[float], percent: int) -> float:
    position = (len(ordered) - 1) * percent / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def month_labels(today: date) -> list[str]:
    """The 12 months up to `today`'s, oldest first, as YYYY-MM."""
    labels = []
    year, month = today.year, today.month
    for _ in range(MONTHS):
        labels.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return labels[::-1]


def _months(
    session: Session, in_scope: ColumnElement[bool], *, now: datetime
) -> list[tuple[str, int]]:
    """One statement of 12 range counts, each read from the (country,) received_at index."""
    labels = month_labels(now.date())
    starts = [datetime.fromisoformat(f"{label}-01T00:00:00+00:00") for label in labels]
    ends = [*starts[1:], None]
    counts = [
        select(func.count(Case.id))
        .where(in_scope, Case.received_at >= start, *([Case.received_at < end] if end else []))
        .scalar_subquery()
        for start, end in zip(starts, ends, strict=True)
    ]
    row = session.execute(select(*counts)).one()
    return [(label, int(count or 0)) for label, count in zip(labels, row, strict=True)]
