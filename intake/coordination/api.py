"""`GET /api/v1/stats` and `GET /api/v1/exports/aggregate` (SPEC section 12).

Coordinators see their own country (another one is 403), admins every country
or the one they name. Every count is suppressed (`suppression.py`); nothing
here reads a sealed column.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response

from intake.coordination import aggregate_files
from intake.coordination.aggregate import aggregate_rows
from intake.coordination.figures import compute
from intake.coordination.period import FIGURE_ROLES, country_for, parse_year, period_of
from intake.coordination.stats import stats_body
from intake.db import transaction
from intake.errors import Forbidden, InvalidInput, Unauthorized, problem_doc
from intake.http.deps import Context
from intake.models import utcnow
from intake.staff.deps import require_roles
from intake.staff.service import Staff

router = APIRouter(
    prefix="/api/v1",
    tags=["coordination"],
    responses={
        Unauthorized.status: problem_doc("Missing, unknown, expired or revoked."),
        Forbidden.status: problem_doc("This role, or this country, is not yours."),
        InvalidInput.status: problem_doc("A date, year or country is not valid."),
    },
)
FigureStaff = Annotated[Staff, Depends(require_roles(*FIGURE_ROLES))]
_NO_STORE = "no-store"
_Text = Annotated[str | None, Query(max_length=16)]


@router.get("/stats")
def stats(
    staff: FigureStaff,
    context: Context,
    response: Response,
    country: _Text = None,
    first: Annotated[str | None, Query(alias="from", max_length=16)] = None,
    last: Annotated[str | None, Query(alias="to", max_length=16)] = None,
) -> dict[str, Any]:
    """Counts by country, category, channel and status for the period (`from`/`to`,
    inclusive, default the last 90 days), overdue now, hours to acknowledge and to
    refer (median, p90), and cases a month over 12 months; small cells suppressed."""
    response.headers["Cache-Control"] = _NO_STORE
    now = utcnow()
    scope = country_for(staff, country)
    period = period_of(first, last, today=now.date())
    with transaction(context.sessions) as session:
        figures = compute(session, period, scope, now=now)
    return stats_body(figures, small=context.settings.small_cell)


@router.get(
    "/exports/aggregate",
    response_class=Response,
    responses={
        200: {
            "content": {media: {} for media in aggregate_files.MEDIA_TYPES.values()},
            "description": "One row per combination present; small cells suppressed.",
        }
    },
)
def export_aggregate(
    staff: FigureStaff,
    context: Context,
    file_format: Annotated[Literal["csv", "xlsx"], Query(alias="format")] = "csv",
    year: _Text = None,
    country: _Text = None,
) -> Response:
    """Columns year, country, affiliation, category, victim_is_child, status, outcome, count."""
    scope = country_for(staff, country)
    chosen_year = parse_year(year)
    with transaction(context.sessions) as session:
        rows = list(aggregate_rows(session, chosen_year, scope, small=context.settings.small_cell))
    name = f"aggregate-{chosen_year or 'all'}-{scope or 'all'}.{file_format}"
    return Response(
        aggregate_files.write(rows, file_format),
        media_type=aggregate_files.MEDIA_TYPES[file_format],
        headers={
            "Cache-Control": _NO_STORE,
            "Content-Disposition": f'attachment; filename="{name}"',
        },
    )
