"""The coordination figures, computed by the database (SPEC section 12).

Every figure is an SQL aggregate: GROUP BY for counts, and for the hours a
window query that returns only the two or four rows around the median and the
90th percentile (linear interpolation, as PostgreSQL's `percentile_cont`), so
nothing here loops over cases. The few dialect differences (month labels,
hours between two timestamps) are the only branches; the same statements run
on SQLite and PostgreSQL. Nothing here suppresses: see `stats.py`.

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

from sqlalchemy import ColumnElement, Select, and_, func, or_, select, true
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
    by_country, by_category, by_channel, by_status = _breakdowns(session, in_period)
    dialect = session.get_bind().dialect.name
    acknowledged = select(
        _hours(dialect, Case.acknowledged_at, Case.received_at).label("hours")
    ).where(in_period, Case.acknowledged_at.is_not(None))
    referred = (
        select(_hours(dialect, CaseEvent.at, Case.received_at).label("hours"))
        .select_from(Case)
        .join(CaseEvent, and_(CaseEvent.case_id == Case.id, CaseEvent.type == REFERRED))
        .where(in_period)
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
        to_acknowledged=_percentiles(session, acknowledged),
        to_referred=_percentiles(session, referred),
        months=_months(session, dialect, in_scope, now=now),
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
    session: Session, where: ColumnElement[bool]
) -> tuple[dict[str, int], dict[str, int], dict[str, int], dict[str, int]]:
    """One GROUP BY over the four dimensions; the groups (never the cases) are summed here."""
    statement = (
        select(Case.country, Case.category, Case.channel, Case.status, func.count(Case.id))
        .where(where)
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


def _month_label(dialect: str, column: Any) -> ColumnElement[Any]:
    if dialect == "sqlite":
        return func.strftime("%Y-%m", column)
    return func.to_char(column, "YYYY-MM")


def _percentiles(session: Session, durations: Select[Any]) -> Hours:
    """The median and 90th percentile of one column of hours, by the database.

    Only the rows at the floor and ceiling of each percentile's position come back."""
    values = durations.subquery()
    ranked = select(
        values.c.hours,
        (func.row_number().over(order_by=values.c.hours) - 1).label("position"),
        func.count().over().label("cases"),
    ).subquery()
    wanted = []
    for percent in _PERCENTS:
        wanted.append(ranked.c.position == (ranked.c.cases - 1) * percent // 100)
        wanted.append(ranked.c.position == ((ranked.c.cases - 1) * percent + 99) // 100)
    rows = session.execute(
        select(ranked.c.hours, ranked.c.position, ranked.c.cases).where(or_(*wanted))
    ).all()
    if not rows:
        return Hours(cases=0, median=None, p90=None)
    cases = int(rows[0].cases)
    at = {int(row.position): float(row.hours) for row in rows}
    median, p90 = (_interpolate(at, cases, percent) for percent in _PERCENTS)
    return Hours(cases=cases, median=median, p90=p90)


def _interpolate(at: dict[int, float], cases: int, percent: int) -> float:
    position = (cases - 1) * percent / 100
    low, high = at[int(position)], at[-(-(cases - 1) * percent // 100)]
    return low + (high - low) * (position - int(position))


def month_labels(today: date) -> list[str]:
    """The 12 months up to `today`'s, oldest first, as YYYY-MM."""
    labels = []
    year, month = today.year, today.month
    for _ in range(MONTHS):
        labels.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return labels[::-1]


def _months(
    session: Session, dialect: str, in_scope: ColumnElement[bool], *, now: datetime
) -> list[tuple[str, int]]:
    labels = month_labels(now.date())
    first = datetime.fromisoformat(f"{labels[0]}-01T00:00:00+00:00")
    label = _month_label(dialect, Case.received_at)
    statement = (
        select(label, func.count(Case.id))
        .where(in_scope, Case.received_at >= first)
        .group_by(label)
    )
    counted = {str(month): int(count) for month, count in session.execute(statement)}
    return [(month, counted.get(month, 0)) for month in labels]
