"""The operator console: sign in, enter a call, read the receipt out, next call.

Plain HTML forms, complete without JavaScript. The receipt is shown only when
the operator asks for it, once (`channels.hotline.reveal`). The session is the one staff
sign-in (`/staff/login`, intake/staff/web.py): `/hotline/login` and
`/hotline/logout` hand over to it. Every POST also carries the double-submit
CSRF token of the public forms. Nothing here reads a case back: after the receipt page, the
call is out of the operator's reach.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from channels.hotline.calls import call_id_hash, is_recorded, record
from channels.hotline.reveal import TICKET_FIELD, new_ticket, reveal_once
from channels.hotline.schemas import HotlineReportIn, to_submission
from intake import i18n
from intake.context import AppContext
from intake.errors import ServiceUnavailable
from intake.http.deps import Context, display_language
from intake.http.forms import FieldError, FormFields, csrf_passed, field_errors, report_fields
from intake.http.pages import active_agencies, country_options, render_page
from intake.models import utcnow
from intake.reports.field_errors import N_
from intake.reports.service import submit
from intake.staff.service import Staff
from intake.staff.web import LOGIN_PATH, LOGOUT_PATH, page_staff
from routing.constants import CATEGORIES

router = APIRouter(include_in_schema=False)

OPERATOR = "operator"
_NAIVE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?$")
# The form asks minutes (what an operator knows); errors point at that field.
_FIELD_ALIASES = {"call.duration_s": "call.duration_min"}
FORM_ID = "form_id"
_FORM_ID_SHAPE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
SHOW_LANGUAGE = "show_language"
CALLER_LANGUAGE = "caller_language"
# Words the operator reads out: shown in the page's language and, beside them, in the
# caller's (the call's language), each from that language's hotline catalog.
CONSENT_QUESTIONS = (
    ("contact_me", N_("May the people who handle your report contact you about it?")),
    (
        "share_with_investigators",
        N_("May we share your report with the people who investigate it?"),
    ),
    (
        "refer_to_services",
        N_(
            "Would you like help from support services, such as health care, counselling or safety?"
        ),
    ),
)
KEEP_IT_SAFE = N_(
    "Keep this number safe and secret. With it, you can ask what happens with your report "
    "and hear the answers. We cannot give you this number again."
)
PROBLEMS = {
    "expired": N_("The form expired. Check the answers and send it again."),
    "signed_out": N_("You are signed out. Sign in again in a new tab, then send this form again."),
    "unavailable": N_("The call could not be saved. Try again in a moment."),
}


# --- session -------------------------------------------------------------------------------


def _redirect(path: str, language: str) -> RedirectResponse:
    return RedirectResponse(f"{path}?lang={language}", status_code=303)


# --- pages ---------------------------------------------------------------------------------


def caller_words(language: str, caller_language: str | None) -> dict[str, Any]:
    """What a template needs to show the words to say in the caller's language too.

    `say` translates with the caller's catalogs; `caller_lang` is None when the
    caller speaks the page's language (nothing to show twice) or sent no shipped code.
    """
    code = caller_language if caller_language in i18n.SHIPPED else None
    shown = code if code is not None and code != language else None
    say = i18n.translations_for(shown or language).gettext
    return {
        "say": say,
        "caller_lang": shown,
        "caller_dir": i18n.direction(shown or language),
        "caller_code": code or language,
        "consent_questions": CONSENT_QUESTIONS,
        "keep_it_safe": KEEP_IT_SAFE,
    }


def _forbidden_page(request: Request, context: AppContext, language: str) -> HTMLResponse:
    return render_page(request, context, "hotline/forbidden.html", language, status=403)


def _call_page(
    request: Request,
    context: AppContext,
    language: str,
    staff: Staff | None,
    *,
    form: Mapping[str, str] | None = None,
    errors: Sequence[FieldError] = (),
    status: int = 200,
) -> HTMLResponse:
    values = dict(form) if form is not None else _fresh_values(language, staff)
    return render_page(
        request,
        context,
        "hotline/call.html",
        language,
        status=status,
        values=values,
        errors=list(errors),
        error_for=dict(errors),
        caller_languages=i18n.shipped_languages(),
        countries=country_options(language),
        categories=CATEGORIES,
        agencies=active_agencies(context),
        signed_in=staff is not None,
        **caller_words(language, values.get("language")),
    )


def _fresh_values(language: str, staff: Staff | None) -> dict[str, str]:
    """A clean form: the caller's language guessed as the operator's, the call starting now."""
    return {
        "language": language,
        "country": (staff.country if staff else None) or "",
        "call.started_at": utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
        FORM_ID: secrets.token_urlsafe(18),
    }


def _message(code: str, language: str) -> str:
    return i18n.translations_for(language).gettext(PROBLEMS[code])


def _problem(code: str, language: str) -> list[FieldError]:
    return [("", _message(code, language))]


# --- the call form -------------------------------------------------------------------------


def call_fields(form: Mapping[str, str]) -> dict[str, Any]:
    """The console's fields as HotlineReportIn input (an empty input is absent)."""
    data = report_fields(form)
    call: dict[str, Any] = {}
    started = form.get("call.started_at", "").strip()
    if started:
        call["started_at"] = started.replace(" ", "T") + ("Z" if _NAIVE_TIME.match(started) else "")
    minutes = form.get("call.duration_min", "").strip()
    if minutes:
        # Digits of any script; anything else fails validation as it is.
        readable = minutes.isdecimal() and len(minutes) <= 6
        call["duration_s"] = int(minutes) * 60 if readable else minutes
    if form.get("call.caller_number"):
        call["caller_number"] = form["call.caller_number"]
    if call:
        data["call"] = call
    return data


def _errors(error: ValidationError, language: str, data: Mapping[str, Any]) -> list[FieldError]:
    found = field_errors(error, i18n.translations_for(language), data)
    return [(_FIELD_ALIASES.get(field, field), message) for field, message in found]


def _submit_call(
    request: Request, context: AppContext, language: str, staff: Staff, form: Mapping[str, str]
) -> HTMLResponse:
    data = call_fields(form)
    try:
        report = HotlineReportIn.model_validate(data)
    except ValidationError as error:
        errors = _errors(error, language, data)
        return _call_page(request, context, language, staff, form=form, errors=errors, status=422)
    digest = _form_call_id(context, form)
    if digest is not None and is_recorded(context, digest):
        return _already_saved(request, context, language)
    submission = to_submission(
        report,
        language=report.language or context.settings.default_language,
        actor=staff.username,
        on_stored=record(digest) if digest is not None else None,
    )
    try:
        accepted = submit(context, submission)
    except ServiceUnavailable:
        if digest is not None and is_recorded(context, digest):
            return _already_saved(request, context, language)  # a double click, sent at once
        errors = _problem("unavailable", language)
        return _call_page(request, context, language, staff, form=form, errors=errors, status=503)
    words = caller_words(language, submission.language)
    if digest is None:  # a form without its one-time id (not ours): nothing to mark shown
        groups = accepted.receipt.split(" ")
        return render_page(
            request, context, "hotline/receipt.html", language, groups=groups, **words
        )
    ticket = new_ticket(
        context, receipt=accepted.receipt, call=digest, operator=staff.username, now=utcnow()
    )
    return render_page(request, context, "hotline/receipt.html", language, ticket=ticket, **words)


def _form_call_id(context: AppContext, form: Mapping[str, str]) -> bytes | None:
    """The form's one-time id as a call id: sending one form twice stores one case."""
    form_id = form.get(FORM_ID, "")
    return call_id_hash(context, "console:" + form_id) if _FORM_ID_SHAPE.match(form_id) else None


def _already_saved(request: Request, context: AppContext, language: str) -> HTMLResponse:
    """The receipt was offered once, when the call was saved; it exists nowhere since."""
    return render_page(request, context, "hotline/receipt.html", language, status=409, groups=None)


def _show_receipt(
    request: Request, context: AppContext, language: str, staff: Staff, form: Mapping[str, str]
) -> HTMLResponse:
    receipt = reveal_once(context, form.get(TICKET_FIELD, "")[:4096], operator=staff.username)
    words = caller_words(language, form.get(CALLER_LANGUAGE))
    if receipt is None:
        return render_page(
            request, context, "hotline/receipt.html", language, status=410, gone=True, **words
        )
    groups = receipt.split(" ")
    return render_page(request, context, "hotline/receipt.html", language, groups=groups, **words)


# --- routes --------------------------------------------------------------------------------


@router.get("/hotline/login")
def login_form(request: Request, context: Context) -> Response:
    """The console signs in through the one staff sign-in."""
    return _redirect(LOGIN_PATH, display_language(request, context))


@router.post("/hotline/login")
def login(request: Request, context: Context) -> Response:
    """A form posted from an older tab goes on to the staff sign-in, body and all."""
    return RedirectResponse(f"{LOGIN_PATH}?lang={display_language(request, context)}", 307)


@router.post("/hotline/logout")
def logout(request: Request, context: Context) -> Response:
    return RedirectResponse(f"{LOGOUT_PATH}?lang={display_language(request, context)}", 307)


@router.get("/hotline", response_class=HTMLResponse)
def call_form(request: Request, context: Context) -> Response:
    language = display_language(request, context)
    staff = page_staff(request, context)
    if staff is None:
        return _redirect(LOGIN_PATH, language)
    if staff.role != OPERATOR:
        return _forbidden_page(request, context, language)
    return _call_page(request, context, language, staff)


@router.post("/hotline/receipt", response_class=HTMLResponse)
def receipt_shown(request: Request, context: Context, form: FormFields) -> Response:
    """The digits, once, when the operator asks (the button on the saved page)."""
    language = display_language(request, context)
    staff = page_staff(request, context)
    if staff is None:
        return _redirect("/hotline/login", language)
    if staff.role != OPERATOR:
        return _forbidden_page(request, context, language)
    if not csrf_passed(request, context, form):  # the ticket is not used up: offer it again
        ticket = form.get(TICKET_FIELD, "")[:4096]
        words = caller_words(language, form.get(CALLER_LANGUAGE))
        return render_page(
            request, context, "hotline/receipt.html", language, status=400, ticket=ticket, **words
        )
    return _show_receipt(request, context, language, staff, form)


@router.post("/hotline", response_class=HTMLResponse)
def call_submit(request: Request, context: Context, form: FormFields) -> Response:
    language = display_language(request, context)
    staff = page_staff(request, context)
    csrf_ok = csrf_passed(request, context, form)
    if staff is None:
        if not csrf_ok:
            return _redirect(LOGIN_PATH, language)
        # Signed out mid-call: keep what was typed; sign in again in another tab, resend.
        errors = _problem("signed_out", language)
        return _call_page(request, context, language, None, form=form, errors=errors, status=401)
    if staff.role != OPERATOR:
        return _forbidden_page(request, context, language)
    if not csrf_ok:
        errors = _problem("expired", language)
        return _call_page(request, context, language, staff, form=form, errors=errors, status=400)
    if SHOW_LANGUAGE in form:  # the caller's language changed: same form, words in it
        return _call_page(request, context, language, staff, form=form)
    return _submit_call(request, context, language, staff, form)
