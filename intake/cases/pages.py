"""The focal point inbox pages: `/inbox` and `/inbox/cases/{case_ref}` (SPEC section 10).

Server-rendered and complete without JavaScript, except opening the sealed
content, answering the reporter and re-sealing for another focal point:
those happen in the page (intake/static/js/case-page.js), which talks to the
case API with this session and its CSRF token. Who may see what comes from
intake/staff/deps.py, exactly as for the API.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from intake.cases.inbox import inbox_page
from intake.db import transaction
from intake.http.deps import Context, display_language
from intake.http.pages import render_page
from intake.models import utcnow
from intake.staff.deps import CaseAccess, case_scope
from intake.staff.web import FocalPointPage
from intake.vocab import STATUSES, Status

router = APIRouter(include_in_schema=False)


@router.get("/inbox", response_class=HTMLResponse)
def inbox(
    request: Request,
    context: Context,
    staff: FocalPointPage,
    status: Annotated[str | None, Query(max_length=32)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    """The signed-in focal point's cases: overdue first, then by due date."""
    language = display_language(request, context)
    chosen: Status | None = next((s for s in STATUSES if s == status), None)
    access = CaseAccess(staff=staff, scope=case_scope(staff))
    with transaction(context.sessions) as session:
        found = inbox_page(session, access, status=chosen, page=page, now=utcnow())
    return render_page(
        request,
        context,
        "staff/inbox.html",
        language,
        staff=staff,
        found=found,
        chosen_status=chosen or "",
        statuses=STATUSES,
    )
