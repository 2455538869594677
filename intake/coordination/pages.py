"""`/dashboard` (SPEC section 12): coordinators (their country) and admins (every country).

Server-rendered, complete without JavaScript: a period form (GET), the cases
overdue now first, the breakdowns of the period, the hours to acknowledge and
to refer, and cases a month as a small SVG with the same numbers in a table.
Every count goes through the suppression rule exactly as `GET /api/v1/stats`
answers it; the overdue list shows clear metadata only, never content, and is
audited like a case list. Focal points and operators get the 403 page.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from intake import i18n
from intake.audit import trail as audit
from intake.context import AppContext
from intake.coordination.chart import month_chart
from intake.coordination.figures import compute, overdue_cases
from intake.coordination.period import FIGURE_ROLES, Period, country_for, period_of
from intake.coordination.stats import BREAKDOWNS, stats_body
from intake.coordination.suppression import small_label
from intake.db import transaction
from intake.errors import Forbidden, InvalidInput
from intake.http.deps import Context, display_language
from intake.http.pages import render_page
from intake.models import utcnow
from intake.reports.field_errors import N_
from intake.staff.service import Staff
from intake.staff.web import DASHBOARD_PATH, page_roles

router = APIRouter(include_in_schema=False)
FigurePage = Annotated[Staff, Depends(page_roles(*FIGURE_ROLES))]
_Text = Annotated[str | None, Query(max_length=16)]
PROBLEMS = {
    "dates": N_("Write the dates as YYYY-MM-DD, the first no later than the last."),
    "country": N_("Write a country as its two-letter code, for example KE."),
    "other_country": N_("You can see the figures of your own country only."),
}
CHART_TITLE = N_("Cases a month, last 12 months")


@router.get(DASHBOARD_PATH, response_class=HTMLResponse)
def dashboard(
    request: Request,
    context: Context,
    staff: FigurePage,
    country: _Text = None,
    first: Annotated[str | None, Query(alias="from", max_length=16)] = None,
    last: Annotated[str | None, Query(alias="to", max_length=16)] = None,
) -> Response:
    """The figures of the period, the overdue cases first."""
    language = display_language(request, context)
    form = {"from": first or "", "to": last or "", "country": country or ""}
    now = utcnow()
    try:
        scope = country_for(staff, country)
    except Forbidden:
        return _problem(request, context, staff, language, form, "other_country", 403)
    except InvalidInput:
        return _problem(request, context, staff, language, form, "country", 422)
    try:
        period = period_of(first, last, today=now.date())
    except InvalidInput:
        return _problem(request, context, staff, language, form, "dates", 422)
    with transaction(context.sessions) as session:
        figures = compute(session, period, scope, now=now)
        overdue = overdue_cases(session, scope, now=now)
        audit.append(
            session,
            actor=staff.username,
            action="case.list",
            detail={"overdue": True, "case_refs": [item.case_ref for item in overdue]},
        )
    body = stats_body(figures, small=context.settings.small_cell)
    gettext = i18n.translations_for(language).gettext
    months = [(item["month"], item["count"]) for item in body["months"]]
    return render_page(
        request,
        context,
        "staff/dashboard.html",
        language,
        staff=staff,
        **_values(staff, period, scope, form),
        stats=body,
        breakdowns=BREAKDOWNS,
        overdue=overdue,
        small=small_label(context.settings.small_cell),
        small_n=context.settings.small_cell,
        chart=month_chart(months, small=context.settings.small_cell, title=gettext(CHART_TITLE)),
    )


def _values(
    staff: Staff, period: Period | None, scope: str | None, form: dict[str, str]
) -> dict[str, Any]:
    return {
        "form": {
            "from": period.first.isoformat() if period else form["from"],
            "to": period.last.isoformat() if period else form["to"],
            "country": (scope or "") if period else form["country"],
        },
        "may_choose_country": staff.role == "admin",
        "country": scope,
    }


def _problem(
    request: Request,
    context: AppContext,
    staff: Staff,
    language: str,
    form: dict[str, str],
    problem: str,
    status: int,
) -> Response:
    message = i18n.translations_for(language).gettext(PROBLEMS[problem])
    return render_page(
        request,
        context,
        "staff/dashboard.html",
        language,
        status=status,
        staff=staff,
        **_values(staff, None, None, form),
        problem=message,
        stats=None,
    )
