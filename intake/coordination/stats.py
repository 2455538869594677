"""The figures as they may leave the service: `GET /api/v1/stats` and the dashboard.

The four breakdowns of the period (country, category, channel, status) count
the same cases, so they are one linked group for the suppression rule. The
months of the chart join that group when the period is exactly a run of whole
months among them (their counts then add up to the period's total); the
other months are a breakdown whose total is never printed. The overdue count
is a cell on its own.
"""

from __future__ import annotations

import calendar
from datetime import date
from typing import Any

from intake.coordination.figures import Figures, Hours
from intake.coordination.suppression import Cell, hours_or_none, suppress

BREAKDOWNS = ("by_country", "by_category", "by_channel", "by_status")
_MONTHS = "months"


def stats_body(figures: Figures, *, small: int) -> dict[str, Any]:
    """SPEC section 12's JSON, every count suppressed."""
    inside = _months_filling(figures)
    group: dict[str, dict[str, int]] = {name: getattr(figures, name) for name in BREAKDOWNS}
    if inside:
        group[_MONTHS] = {month: n for month, n in figures.months if month in inside}
    linked = suppress(group, small=small, total=figures.total)
    outside = {month: n for month, n in figures.months if month not in inside}
    months: dict[str, Cell] = {
        **suppress({_MONTHS: outside}, small=small).breakdowns[_MONTHS],
        **linked.breakdowns.get(_MONTHS, {}),
    }
    overdue = suppress({"overdue": {"overdue": figures.overdue}}, small=small)
    return {
        "from": figures.period.first.isoformat(),
        "to": figures.period.last.isoformat(),
        **{name: linked.breakdowns[name] for name in BREAKDOWNS},
        "total": linked.total,
        "overdue": overdue.breakdowns["overdue"]["overdue"],
        "hours_to_acknowledged": _hours(figures.to_acknowledged, small),
        "hours_to_referred": _hours(figures.to_referred, small),
        "months": [{"month": month, "count": months[month]} for month, _n in figures.months],
    }


def _hours(hours: Hours, small: int) -> dict[str, float | None]:
    return {
        "median": _rounded(hours_or_none(hours.median, hours.cases, small=small)),
        "p90": _rounded(hours_or_none(hours.p90, hours.cases, small=small)),
    }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _months_filling(figures: Figures) -> set[str]:
    """The chart's months that make up the period exactly, or none when they do not."""
    first, last = figures.period.first, figures.period.last
    if first.day != 1 or last.day != calendar.monthrange(last.year, last.month)[1]:
        return set()
    wanted = set()
    day = first
    while day <= last:
        wanted.add(f"{day.year:04d}-{day.month:02d}")
        day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    shown = {month for month, _n in figures.months}
    # Months after the current one hold no case: they do not break the sum.
    wanted = {month for month in wanted if month <= max(shown)}
    return wanted if wanted <= shown else set()
