"""The focal point inbox pages: `/inbox` and `/inbox/cases/{case_ref}` (SPEC section 10).

Server-rendered and complete without JavaScript, except opening the sealed
content, answering the reporter and re-sealing for another focal point:
those happen in the page (intake/static/js/case-page.js), which talks to the
case API with this session and its CSRF token. Who may see what comes from
intake/staff/deps.py, exactly as for the API.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from intake import i18n
from intake.cases import lifecycle
from intake.cases.detail import case_detail
from intake.cases.inbox import inbox_page
from intake.cases.schemas import EventIn
from intake.cases.service import find_visible
from intake.context import AppContext
from intake.db import transaction
from intake.errors import Conflict, NotFound
from intake.http.deps import Context, display_language
from intake.http.forms import FormFields, csrf_passed
from intake.http.pages import render_page
from intake.models import utcnow
from intake.reports.field_errors import N_
from intake.staff.deps import CaseAccess, case_scope
from intake.staff.service import Staff
from intake.staff.web import FocalPointPage, StaffPage, redirect
from intake.vocab import OUTCOMES, STATUSES, Status

router = APIRouter(include_in_schema=False)
FOCAL_POINT = "focal_point"


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
    with transaction(context.sessions) as session:
        found = inbox_page(session, _case_access(staff), status=chosen, page=page, now=utcnow())
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


# --- one case ------------------------------------------------------------------------------

# The event form's one select: "type" or "type:to" (works without JavaScript).
EVENT_CHOICES = (
    "acknowledged",
    "referred:investigation",
    "referred:assistance",
    "investigating",
    "closed",
)
EVENT_PROBLEMS = {
    "expired": N_("The form expired. Check the answers and send it again."),
    "order": N_("That step is not possible now: steps go forward only, never back or twice."),
    "consent": N_(
        "The reporter did not agree to referral to services. "
        "To refer anyway, write why in the box for the reason."
    ),
    "invalid": N_("Check the answers: a closed case needs an outcome."),
}


def _case_access(staff: Staff) -> CaseAccess:
    return CaseAccess(staff=staff, scope=case_scope(staff))


def _case_page(
    request: Request,
    context: AppContext,
    staff: Staff,
    case_ref: str,
    *,
    problem: str = "",
    status: int = 200,
) -> Response:
    language = display_language(request, context)
    if staff.role != FOCAL_POINT:
        return _not_found(request, context, language)
    try:
        with transaction(context.sessions) as session:
            detail = case_detail(session, context, _case_access(staff), case_ref, now=utcnow())
    except NotFound:
        return _not_found(request, context, language)
    message = i18n.translations_for(language).gettext(EVENT_PROBLEMS[problem]) if problem else ""
    return render_page(
        request,
        context,
        "staff/case.html",
        language,
        status=status,
        staff=staff,
        case=detail,
        problem=message,
        event_choices=EVENT_CHOICES,
        outcomes=OUTCOMES,
        idle_minutes=context.settings.staff_idle_minutes,
    )


def _not_found(request: Request, context: AppContext, language: str) -> Response:
    return render_page(request, context, "staff/not_found.html", language, status=404)


@router.get("/inbox/cases/{case_ref}", response_class=HTMLResponse)
def case_page(request: Request, context: Context, staff: StaffPage, case_ref: str) -> Response:
    """The case's clear facts, events and message times; the content opens in the page."""
    return _case_page(request, context, staff, case_ref[:64])


@router.post("/inbox/cases/{case_ref}/events", response_class=HTMLResponse)
def case_event(
    request: Request, context: Context, staff: StaffPage, case_ref: str, form: FormFields
) -> Response:
    """The event form without JavaScript: the same rules as the events endpoint."""
    case_ref = case_ref[:64]
    if staff.role != FOCAL_POINT:
        return _not_found(request, context, display_language(request, context))
    if not csrf_passed(request, context, form):
        return _case_page(request, context, staff, case_ref, problem="expired", status=400)
    try:
        event = _event_of(form)
        with transaction(context.sessions) as session:
            lifecycle.record_event(
                session, context, _case_access(staff), case_ref, event, now=utcnow()
            )
    except ValidationError:
        return _case_page(request, context, staff, case_ref, problem="invalid", status=422)
    except NotFound:
        return _not_found(request, context, display_language(request, context))
    except Conflict:
        with context.sessions() as session:
            problem = "consent" if _lacks_consent(session, staff, case_ref, form) else "order"
        return _case_page(request, context, staff, case_ref, problem=problem, status=409)
    language = display_language(request, context)
    return redirect(f"/inbox/cases/{case_ref}", language)


def _event_of(form: Mapping[str, str]) -> EventIn:
    kind, _, to = form.get("event", "").partition(":")
    reason = form.get("override_reason", "")
    data: dict[str, str] = {"type": kind}
    if to:
        data["to"] = to
    if kind == "closed":
        data["outcome"] = form.get("outcome", "")
    if to == "assistance" and reason.strip():
        data["override_reason"] = reason
    return EventIn.model_validate(data)


def _lacks_consent(session: Session, staff: Staff, case_ref: str, form: Mapping[str, str]) -> bool:
    if form.get("event") != "referred:assistance" or form.get("override_reason", "").strip():
        return False
    case = find_visible(session, _case_access(staff), case_ref)
    return not case.consent_refer_to_services
