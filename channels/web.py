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

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import Field, ValidationError

from channels.base import ChannelAdapter
from channels.web_followup import router as followup_router
from channels.web_receipt import (
    COOKIE,
    RECEIPT_PATH,
    carry,
    forget,
    seal_receipt,
    take,
)
from intake import i18n
from intake.context import AppContext
from intake.errors import (
    BadRequest,
    ServiceUnavailable,
    TooManyRequests,
)
from intake.http.deps import Context, client_source, display_language, language_for
from intake.http.forms import (
    CSRF_FIELD,
    FieldError,
    FormFields,
    csrf_passed,
    field_errors,
    page_problem,
    report_fields,
)
from intake.http.pages import active_agencies, country_options, render_page
from intake.reports.field_errors import MESSAGES
from intake.reports.schemas import ReportIn, Schema, SealedReportIn
from intake.reports.sealed import sealed_submission
from intake.reports.service import submit
from intake.reports.submission import Submission
from intake.vocab import Channel
from routing.constants import CATEGORIES

CHANNEL: Channel = "web"
SEALED_PATH = "/report/sealed"
router = APIRouter(include_in_schema=False)


class SealedPost(Schema):
    """The body of the form's sealed post: its CSRF token and the sealed report."""

    csrf_token: str = Field(max_length=200, repr=False)
    report: SealedReportIn


# The sealed-field rules the page checks itself before sealing (SPEC 11): their
# messages, as the server words them (intake.reports.field_errors).
PAGE_CHECKED = (
    "narrative_required",
    "narrative_too_long",
    "date_invalid",
    "date_in_future",
    "reporter_not_anonymous",
    "reporter_required",
    "nul_character",
    "string_too_long",
    "int_type",
    "greater_than_equal",
    "less_than_equal",
    "literal_error",
)
# How long the follow-up page's reply form stays usable before the receipt must be typed again.


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
        errors = page_problem("csrf_invalid", language)
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
        errors = page_problem("too_many_reports", language)
        return _form_page(
            request, context, language, form=form, errors=errors, status=429, headers=error.headers
        )
    except ServiceUnavailable:
        errors = page_problem("unavailable", language)
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


@router.post(SEALED_PATH, status_code=201, response_class=JSONResponse)
def report_sealed(request: Request, context: Context, body: SealedPost) -> JSONResponse:
    """The form's sealed post (SPEC 11): clear fields, token and envelope, as JSON.

    The same checks as the API's sealed report, the web channel's case, and the
    same ending as the version 1 post: the receipt travels in the one-time cookie
    to the receipt page, which the script then opens; it never passes the script.
    Any refusal is a problem the script answers by posting the form as version 1.
    """
    if not csrf_passed(request, context, {CSRF_FIELD: body.csrf_token}):
        raise BadRequest("The form expired; please send it again.")
    language = language_for(body.report.language, request, context)
    source = client_source(request, context)
    submission = sealed_submission(
        context, body.report, channel=CHANNEL, language=language, source=source
    )
    accepted = submit(context, submission)
    page = display_language(request, context, body.report.language)
    sealed = seal_receipt(context.secret, accepted.receipt, page, now=time.time())
    response = JSONResponse({"next": f"{RECEIPT_PATH}?lang={page}"}, status_code=201)
    carry(response, request, sealed)
    return response


@router.get("/report/sealing", response_class=JSONResponse)
def report_sealing_texts(request: Request, context: Context) -> JSONResponse:
    """The field messages in the page's language, fetched only when JavaScript runs.

    The page checks the sealed fields itself (the server cannot read them) with
    the server's own words; fetched, so that the no-JavaScript page stays small.
    """
    language = display_language(request, context)
    translations = i18n.translations_for(language)
    return JSONResponse(
        {
            "messages": {code: translations.gettext(MESSAGES[code]) for code in PAGE_CHECKED},
            "summary": translations.gettext("Please check your answers"),
        },
        headers={"Cache-Control": "no-store"},
    )


class WebChannel(ChannelAdapter):
    """The report form and the follow-up pages (`channels.web_followup`)."""

    name: Channel = CHANNEL

    def routers(self) -> Sequence[APIRouter]:
        return (router, followup_router)
