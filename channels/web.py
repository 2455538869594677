"""The web pages adapter: form fields -> ReportIn -> intake.reports.service.submit -> receipt page.

Server-rendered, complete without JavaScript. The report's plaintext lives only
in this request's memory. A stored report answers 303 to the receipt page, the
receipt carried there once in a sealed cookie (`channels.web_receipt`, SPEC
14): never a URL, and no page in the history that holds it or the account.
Pages are not cached. CSRF protection keeps no server state: a random value in
a cookie and its HMAC in a hidden field (double submit).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from babel.dates import format_date
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from channels.base import ChannelAdapter
from channels.web_receipt import COOKIE, RECEIPT_PATH, carry, forget, seal_receipt, take
from intake import i18n
from intake.context import AppContext
from intake.errors import InvalidInput, NotFound, ServiceUnavailable, TooManyRequests
from intake.followup.service import FollowupView, look_up
from intake.http.deps import Context, client_source, display_language, language_for
from intake.http.forms import FieldError, FormFields, csrf_passed, field_errors, report_fields
from intake.http.pages import active_agencies, country_options, render_page
from intake.reports.field_errors import message_for
from intake.reports.schemas import ReportIn
from intake.reports.service import submit
from intake.reports.submission import Submission
from intake.vocab import Channel
from routing.constants import CATEGORIES

CHANNEL: Channel = "web"
router = APIRouter(include_in_schema=False)

MAX_RECEIPT_TEXT = 200  # anything longer is not a receipt (as in the JSON API)


# --- form parsing ---------------------------------------------------------------------


# --- CSRF (double submit, no server state) -------------------------------------------------


# --- what the pages show ---------------------------------------------------------------


def _form_page(
    request: Request,
    context: AppContext,
    language: str,
    *,
    form: Mapping[str, str] | None = None,
    errors: Sequence[FieldError] = (),
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    return render_page(
        request,
        context,
        "report/form.html",
        language,
        status=status,
        headers=headers,
        values=dict(form or {}),
        errors=list(errors),
        error_for=dict(errors),
        countries=country_options(language),
        categories=CATEGORIES,
        agencies=active_agencies(context),
    )


def _problem(code: str, language: str) -> list[FieldError]:
    return [("", message_for(code, i18n.translations_for(language)))]


# --- routes ------------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
def home(request: Request, context: Context) -> HTMLResponse:
    """A small page of links: report, follow-up, and the staff sign-in (SPEC 14)."""
    return render_page(request, context, "home.html", display_language(request, context))


@router.get("/report", response_class=HTMLResponse)
def report_form(request: Request, context: Context) -> HTMLResponse:
    return _form_page(request, context, display_language(request, context))


@router.post("/report", response_class=HTMLResponse)
def report_submit(request: Request, context: Context, form: FormFields) -> Response:
    language = display_language(request, context, form.get("language"))
    if not csrf_passed(request, context, form):
        errors = _problem("csrf_invalid", language)
        return _form_page(request, context, language, form=form, errors=errors, status=400)
    data = report_fields(form)
    try:
        report = ReportIn.model_validate(data)
    except ValidationError as error:
        errors = field_errors(error, i18n.translations_for(language), data)
        return _form_page(request, context, language, form=form, errors=errors, status=422)
    submission = Submission(
        report=report,
        channel=CHANNEL,
        language=language_for(report.language, request, context),
        source=client_source(request, context),
    )
    try:
        accepted = submit(context, submission)
    except TooManyRequests as error:
        errors = _problem("too_many_reports", language)
        return _form_page(
            request, context, language, form=form, errors=errors, status=429, headers=error.headers
        )
    except ServiceUnavailable:
        errors = _problem("unavailable", language)
        return _form_page(request, context, language, form=form, errors=errors, status=503)
    # Stored and committed: 303, so that the page in the history is the receipt page
    # (which shows the receipt once), never this POST with the account in it.
    sealed = seal_receipt(context.secret, accepted.receipt, language, now=time.time())
    response = RedirectResponse(f"{RECEIPT_PATH}?lang={language}", status_code=303)
    carry(response, request, sealed)
    return response


@router.get(RECEIPT_PATH, response_class=HTMLResponse)
def report_received(request: Request, context: Context) -> HTMLResponse:
    """The receipt, once: the cookie is deleted in this very answer.

    Without the cookie (a reload, Back, Forward, a stale link, an expired or
    forged value) the page is a neutral one that does not say a report was made.
    """
    carried = take(request, context.secret)
    language = display_language(request, context, carried.language if carried else None)
    receipt = carried.receipt if carried else None
    response = render_page(request, context, "report/receipt.html", language, receipt=receipt)
    if COOKIE in request.cookies:
        forget(response, request)
    return response


def _followup_page(
    request: Request,
    context: AppContext,
    language: str,
    *,
    view: FollowupView | None = None,
    typed: str = "",
    errors: Sequence[FieldError] = (),
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    return render_page(
        request,
        context,
        "followup/page.html",
        language,
        status=status,
        headers=headers,
        view=view,
        typed=typed,
        format_datetime=_day,
        errors=list(errors),
        error_for=dict(errors),
    )


def _day(moment: datetime, language: str) -> str:
    """The day in the reporter's language (stored times are UTC)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return format_date(aware.astimezone(UTC).date(), "long", locale=language)


@router.get("/followup", response_class=HTMLResponse)
def followup_form(request: Request, context: Context) -> HTMLResponse:
    return _followup_page(request, context, display_language(request, context))


@router.post("/followup", response_class=HTMLResponse)
def followup_submit(request: Request, context: Context, form: FormFields) -> HTMLResponse:
    language = display_language(request, context, form.get("language"))
    typed = form.get("receipt", "")
    if not csrf_passed(request, context, form):
        errors = _problem("csrf_invalid", language)
        return _followup_page(request, context, language, typed=typed, errors=errors, status=400)
    try:
        if len(typed) > MAX_RECEIPT_TEXT:
            raise InvalidInput()
        view = look_up(context, receipt_text=typed, source=client_source(request, context))
    except InvalidInput:
        errors = [("receipt", message_for("receipt_invalid", i18n.translations_for(language)))]
        return _followup_page(request, context, language, typed=typed, errors=errors, status=422)
    except NotFound:
        errors = [("receipt", message_for("receipt_unknown", i18n.translations_for(language)))]
        return _followup_page(request, context, language, typed=typed, errors=errors, status=404)
    except TooManyRequests as error:
        errors = _problem("too_many_attempts", language)
        return _followup_page(
            request, context, language, errors=errors, status=429, headers=error.headers
        )
    return _followup_page(request, context, language, view=view)


class WebChannel(ChannelAdapter):
    """The report form and the follow-up pages."""

    name: Channel = CHANNEL

    def routers(self) -> Sequence[APIRouter]:
        return (router,)
