"""The web pages adapter: form fields -> ReportIn -> intake.reports.service.submit -> receipt page.

Server-rendered, complete without JavaScript. The report's plaintext lives only
in this request's memory. A stored report answers 303 to the receipt page, the
receipt carried there once in a sealed cookie (`channels.web_receipt`, SPEC
14): never a URL, and no page in the history that holds it or the account.
Pages are not cached. CSRF protection keeps no server state: a random value in
a cookie and its HMAC in a hidden field (double submit).
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from babel.dates import format_date
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import Field, ValidationError

from channels.base import ChannelAdapter
from channels.web_receipt import (
    COOKIE,
    RECEIPT_PATH,
    REPLY_PURPOSE,
    REPLY_SENT_PATH,
    carry,
    forget,
    seal_receipt,
    take,
)
from crypto.receipt import normalize_receipt
from crypto.secretbox import DraftError, open_draft, seal_draft
from intake import i18n
from intake.cases.service import CaseShredded
from intake.context import AppContext
from intake.errors import (
    BadRequest,
    InvalidInput,
    NotFound,
    ServiceUnavailable,
    TooManyRequests,
)
from intake.followup.replies import TooManyReplies, reply
from intake.followup.service import FollowupView, look_up
from intake.http.deps import Context, client_source, display_language, language_for
from intake.http.forms import (
    CSRF_FIELD,
    FieldError,
    FormFields,
    csrf_passed,
    field_errors,
    report_fields,
)
from intake.http.pages import active_agencies, country_options, render_page
from intake.reports.field_errors import MESSAGES, message_for
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
# How long the follow-up page's reply form stays usable before the receipt must be typed again.
REPLY_FORM_SECONDS = 3600
REPLY_FIELD = "reply_to"


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
    receipt: str | None = None,
    reply_text: str = "",
    replied: bool = False,
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
        reply_field=REPLY_FIELD,
        reply_token=_reply_token(context, receipt)
        if view and receipt and not view.shredded
        else "",
        reply_text=reply_text,
        replied=replied,
    )


# --- the reply form's receipt (SPEC 16) ---------------------------------------------------
# The page that shows the messages carries the receipt for the reply form, sealed with the
# server secret and dated, never in clear: what stays on a shared phone's screen or in a
# saved page opens nothing, and it stops working after REPLY_FORM_SECONDS.


def _reply_token(context: AppContext, receipt: str) -> str:
    data = json.dumps({"r": receipt, "e": int(time.time()) + REPLY_FORM_SECONDS}).encode()
    return base64.urlsafe_b64encode(seal_draft(context.secret, data)).decode("ascii")


def _receipt_of_token(context: AppContext, token: str) -> str | None:
    """The receipt a reply form carries, or None when it is damaged or too old."""
    try:
        data = json.loads(open_draft(context.secret, base64.urlsafe_b64decode(token[:1000])))
    except (DraftError, binascii.Error, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("e"), int):
        return None
    receipt = data.get("r")
    if data["e"] < time.time() or not isinstance(receipt, str):
        return None
    return receipt


def _day(moment: datetime, language: str) -> str:
    """The day in the reporter's language (stored times are UTC)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return format_date(aware.astimezone(UTC).date(), "long", locale=language)


@router.get("/followup", response_class=HTMLResponse)
def followup_form(request: Request, context: Context) -> HTMLResponse:
    return _followup_page(request, context, display_language(request, context))


@router.post("/followup", response_class=HTMLResponse)
def followup_submit(request: Request, context: Context, form: FormFields) -> Response:
    language = display_language(request, context, form.get("language"))
    typed = form.get("receipt", "")
    if not csrf_passed(request, context, form):
        errors = _problem("csrf_invalid", language)
        return _followup_page(request, context, language, typed=typed, errors=errors, status=400)
    if REPLY_FIELD in form:
        return _followup_reply(request, context, language, form)
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
    receipt = normalize_receipt(typed)
    return _followup_page(request, context, language, view=view, receipt=receipt)


def _followup_reply(
    request: Request, context: AppContext, language: str, form: Mapping[str, str]
) -> Response:
    """The reply form under the messages: seal and store the text, then 303 to them."""
    translations = i18n.translations_for(language)
    receipt = _receipt_of_token(context, form.get(REPLY_FIELD, ""))
    if receipt is None:
        errors = [("receipt", message_for("reply_form_expired", translations))]
        return _followup_page(request, context, language, errors=errors, status=400)
    text = form.get("text", "")
    source = client_source(request, context)
    status, headers, errors = 422, None, list[FieldError]()
    try:
        reply(context, receipt_text=receipt, text=text, source=source)
    except InvalidInput as error:
        code = str((error.errors or [{}])[0].get("type", "reply_invalid"))
        errors = [("text", message_for(code, translations))]
    except TooManyReplies as error:
        status, headers = 429, error.headers
        errors = _problem("too_many_replies", language)
    except CaseShredded:  # the page says why and shows no reply form (SPEC 12)
        status, replied = 409, False
    except NotFound:
        errors = [("receipt", message_for("receipt_unknown", translations))]
        return _followup_page(request, context, language, errors=errors, status=404)
    except TooManyRequests as error:
        errors = _problem("too_many_attempts", language)
        return _followup_page(
            request, context, language, errors=errors, status=429, headers=error.headers
        )
    else:
        # Stored and committed: 303, so that a reload or Back never sends the reply
        # again; the receipt goes to the next page in the one-time cookie.
        sealed = seal_receipt(
            context.secret, receipt, language, now=time.time(), purpose=REPLY_PURPOSE
        )
        response = RedirectResponse(f"{REPLY_SENT_PATH}?lang={language}", status_code=303)
        carry(response, request, sealed, path=REPLY_SENT_PATH)
        return response
    view = _view_or_none(context, receipt, source)
    return _followup_page(
        request,
        context,
        language,
        view=view,
        receipt=receipt,
        errors=errors,
        status=status,
        headers=headers,
        reply_text=text,
    )


@router.get(REPLY_SENT_PATH, response_class=HTMLResponse)
def reply_sent(request: Request, context: Context) -> HTMLResponse:
    """The messages with the reply just sent, once: the cookie is deleted in this answer.

    Without the cookie (a reload, Back, Forward, an old link) it is the plain
    follow-up form, which says nothing of a report or a reply.
    """
    carried = take(request, context.secret, purpose=REPLY_PURPOSE)
    language = display_language(request, context, carried.language if carried else None)
    view = None
    if carried is not None:
        view = _view_or_none(context, carried.receipt, client_source(request, context))
    if view is None or carried is None:
        response = _followup_page(request, context, language)
    else:
        receipt = carried.receipt
        response = _followup_page(
            request, context, language, view=view, receipt=receipt, replied=True
        )
    if COOKIE in request.cookies:
        forget(response, request, path=REPLY_SENT_PATH)
    return response


def _view_or_none(context: AppContext, receipt: str, source: bytes | None) -> FollowupView | None:
    try:
        return look_up(context, receipt_text=receipt, source=source)
    except (NotFound, TooManyRequests):
        return None  # gone or limited meanwhile: a reply already sent is stored all the same


class WebChannel(ChannelAdapter):
    """The report form and the follow-up pages."""

    name: Channel = CHANNEL

    def routers(self) -> Sequence[APIRouter]:
        return (router,)
