"""The follow-up pages (SPEC 6 and 16): a receipt shows the case's status and messages,
and the reporter may answer there, without JavaScript.

The reply form carries the receipt sealed with the server secret, never in clear; a
sent reply answers 303 to `REPLY_SENT_PATH`, the receipt carried there once in the
sealed one-time cookie of `channels.web_receipt`, so no history step sends it twice.
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
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from channels.web_receipt import (
    COOKIE,
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
from intake.errors import InvalidInput, NotFound, TooManyRequests
from intake.followup.replies import TooManyReplies, reply
from intake.followup.service import FollowupView, look_up
from intake.http.deps import Context, client_source, display_language
from intake.http.forms import FieldError, FormFields, csrf_passed, page_problem
from intake.http.pages import render_page
from intake.reports.field_errors import message_for

router = APIRouter(include_in_schema=False)
MAX_RECEIPT_TEXT = 200  # anything longer is not a receipt (as in the JSON API)
REPLY_FORM_SECONDS = 3600
REPLY_FIELD = "reply_to"


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
        errors = page_problem("csrf_invalid", language)
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
        errors = page_problem("too_many_attempts", language)
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
        errors = page_problem("too_many_replies", language)
    except CaseShredded:  # the page says why and shows no reply form (SPEC 12)
        status = 409
    except NotFound:
        errors = [("receipt", message_for("receipt_unknown", translations))]
        return _followup_page(request, context, language, errors=errors, status=404)
    except TooManyRequests as error:
        errors = page_problem("too_many_attempts", language)
        return _followup_page(
            request, context, language, errors=errors, status=429, headers=error.headers
        )
    else:
        return _to_sent_page(request, context, receipt, language)
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


def _to_sent_page(
    request: Request, context: AppContext, receipt: str, language: str
) -> RedirectResponse:
    """Stored and committed: 303, so that a reload or Back never sends the reply again;
    the receipt goes to the next page in the one-time cookie."""
    sealed = seal_receipt(context.secret, receipt, language, now=time.time(), purpose=REPLY_PURPOSE)
    response = RedirectResponse(f"{REPLY_SENT_PATH}?lang={language}", status_code=303)
    carry(response, request, sealed, path=REPLY_SENT_PATH)
    return response


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
