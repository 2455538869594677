"""The web pages adapter: form fields -> ReportIn -> intake.reports.service.submit -> receipt page.

Server-rendered, complete without JavaScript. The report's plaintext lives only
in this request's memory; the receipt goes into the page body (never a URL)
and the pages are not cached. CSRF protection keeps no server state: a random
value in the only cookie and its HMAC in a hidden field (double submit).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from babel.dates import format_date
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import ValidationError

from channels.base import ChannelAdapter
from intake import i18n
from intake.context import AppContext
from intake.errors import InvalidInput, NotFound, ServiceUnavailable, TooManyRequests
from intake.followup.service import FollowupView, look_up
from intake.http.deps import Context, client_source, display_language, language_for
from intake.http.forms import FieldError, FormFields, csrf_passed, field_errors, report_fields
from intake.http.pages import active_agencies, country_options, render_page
from intake.reports.field_errors import MESSAGES, message_for
from intake.reports.schemas import ReportIn
from intake.reports.service import submit
from intake.reports.submission import Submission
from intake.vocab import Channel
from routing.constants import CATEGORIES

CHANNEL: Channel = "web"
router = APIRouter(include_in_schema=False)

MAX_RECEIPT_TEXT = 200  # anything longer is not a receipt (as in the JSON API)
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


@router.get("/report", response_class=HTMLResponse)
def report_form(request: Request, context: Context) -> HTMLResponse:
    return _form_page(request, context, display_language(request, context))


@router.post("/report", response_class=HTMLResponse)
def report_submit(request: Request, context: Context, form: FormFields) -> HTMLResponse:
    language = display_language(request, context, form.get("language"))
    if not csrf_passed(request, context, form):
        errors = _problem("csrf_invalid", language)
        return _form_page(request, context, language, form=form, errors=errors, status=400)
    try:
        report = ReportIn.model_validate(report_fields(form))
    except ValidationError as error:
        errors = field_errors(error, i18n.translations_for(language))
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
    return render_page(request, context, "report/receipt.html", language, receipt=accepted.receipt)


@router.get("/report/sealing", response_class=JSONResponse)
def report_sealing_texts(request: Request, context: Context) -> JSONResponse:
    """What the form's script needs to seal in the page, fetched only when JavaScript runs.

    The field messages in the page's language and the receipt page itself
    (rendered from the same template, without a receipt: the script fills in
    the one the API returns), so the no-JavaScript page stays small and the
    receipt page is the same either way.
    """
    language = display_language(request, context)
    translations = i18n.translations_for(language)
    receipt_page = render_page(request, context, "report/receipt.html", language, receipt="")
    return JSONResponse(
        {
            "messages": {code: translations.gettext(MESSAGES[code]) for code in PAGE_CHECKED},
            "summary": translations.gettext("Please check your answers"),
            "receipt_page": bytes(receipt_page.body).decode("utf-8"),
        },
        headers={"Cache-Control": "no-store"},
    )


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
