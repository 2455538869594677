"""The web pages adapter: form fields -> ReportIn -> intake.pipeline.submit -> receipt page.

Server-rendered, complete without JavaScript. The report's plaintext lives only
in this request's memory; the receipt goes into the page body (never a URL)
and the pages are not cached. CSRF protection keeps no server state: a random
value in the only cookie and its HMAC in a hidden field (double submit).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from functools import cache
from typing import Annotated, Any

from babel import Locale
from babel.dates import format_date
from babel.support import NullTranslations
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import ValidationError

from intake import i18n
from intake.context import AppContext
from intake.deps import Context, client_source, display_language, language_for
from intake.errors import InvalidInput, NotFound, ServiceUnavailable, TooManyRequests
from intake.followup.service import FollowupView, look_up
from intake.paths import package_folder
from intake.pipeline import Submission, submit
from intake.report_errors import message_for
from intake.routing_store import NoRoutingTable
from intake.schemas import ReportIn
from routing.constants import CATEGORIES, is_country_code
from routing.table import RoutingTable

router = APIRouter(include_in_schema=False)

CSRF_COOKIE = "csrf"
CSRF_FIELD = "csrf_token"
MAX_FORM_FIELDS = 64
MAX_RECEIPT_TEXT = 200  # anything longer is not a receipt (as in the JSON API)
# (field, message): field "" is a form-wide problem shown only in the summary.
FieldError = tuple[str, str]

_TEXT_FIELDS = (
    "reporter_type",
    "language",
    "country",
    "category",
    "affiliation",
    "narrative",
    "incident_date",
    "location",
)
_GROUPS = {"reporter": ("name", "contact"), "victim": ("name", "age", "sex")}
_CONSENTS = ("contact_me", "share_with_investigators", "refer_to_services")
_CHILD = {"yes": True, "no": False, "unknown": None, "": None}
# Errors raised on a whole group (or the whole report) point at its first field.
_GROUP_ANCHOR = {
    "reporter": "reporter.name",
    "victim": "victim.name",
    "consent": "consent.contact_me",
}
_ROOT_ANCHOR = {"reporter_not_anonymous": "reporter.name", "reporter_required": "reporter.name"}
_COOKIE_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


# --- form parsing ---------------------------------------------------------------------


async def form_fields(request: Request) -> dict[str, str]:
    """The posted text fields (files and repeated names beyond the last are ignored)."""
    async with request.form(max_files=0, max_fields=MAX_FORM_FIELDS) as form:
        return {key: value for key, value in form.multi_items() if isinstance(value, str)}


FormFields = Annotated[dict[str, str], Depends(form_fields)]


def report_fields(form: Mapping[str, str]) -> dict[str, Any]:
    """Form fields as ReportIn input: an empty input is absent, a ticked box is true."""
    data: dict[str, Any] = {name: form[name] for name in _TEXT_FIELDS if form.get(name)}
    if "victim_is_child" in form:
        choice = form["victim_is_child"]
        data["victim_is_child"] = _CHILD.get(choice, choice)  # unknown words fail validation
    data["consent"] = {name: f"consent.{name}" in form for name in _CONSENTS}
    for group, names in _GROUPS.items():
        values: dict[str, Any] = {
            name: form[f"{group}.{name}"] for name in names if form.get(f"{group}.{name}")
        }
        if values:
            data[group] = values
    victim = data.get("victim", {})
    if "age" in victim:
        victim["age"] = _whole_number(victim["age"])
    return data


def _whole_number(text: str) -> int | str:
    """Digits (also Arabic-Indic ones) as an int; anything else stays text and fails."""
    try:
        return int(text.strip())
    except ValueError:
        return text


def field_errors(error: ValidationError, translations: NullTranslations) -> list[FieldError]:
    """Each validation error as (form field name, message in the page language)."""
    found: list[FieldError] = []
    for item in error.errors(include_url=False, include_context=False, include_input=False):
        field = _field_of(tuple(str(part) for part in item["loc"]), item["type"])
        if all(known != field for known, _message in found):
            found.append((field, message_for(item["type"], translations)))
    return found


def _field_of(loc: tuple[str, ...], code: str) -> str:
    if not loc:
        return _ROOT_ANCHOR.get(code, "")
    name = ".".join(loc)
    return _GROUP_ANCHOR.get(name, name)


# --- CSRF (double submit, no server state) -------------------------------------------------


def csrf_token(key: bytes, cookie: str) -> str:
    """The hidden-field value that goes with a cookie value."""
    return hmac.new(key, cookie.encode("ascii"), hashlib.sha256).hexdigest()


def csrf_valid(key: bytes, cookie: str | None, token: str | None) -> bool:
    if not cookie or not token or not _well_formed(cookie):
        return False
    return hmac.compare_digest(csrf_token(key, cookie).encode(), token.encode("utf-8", "replace"))


def _well_formed(cookie: str) -> bool:
    return 32 <= len(cookie) <= 64 and set(cookie) <= _COOKIE_CHARS


def _cookie_value(request: Request) -> str:
    existing = request.cookies.get(CSRF_COOKIE)
    return existing if existing and _well_formed(existing) else secrets.token_urlsafe(32)


def _csrf_passed(request: Request, context: AppContext, form: Mapping[str, str]) -> bool:
    return csrf_valid(
        context.secret.subkey("csrf"), request.cookies.get(CSRF_COOKIE), form.get(CSRF_FIELD)
    )


# --- what the pages show ---------------------------------------------------------------


@cache
def country_options(language: str) -> tuple[tuple[str, str], ...]:
    """(code, localized name) of every assigned country, sorted by name."""
    names = Locale.parse(language).territories
    pairs = [(str(code), str(name)) for code, name in names.items() if is_country_code(code)]
    return tuple(sorted(pairs, key=lambda pair: _sort_key(pair[1])))


def _sort_key(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def agency_codes(table: RoutingTable) -> list[str]:
    """Agency codes the active table knows (rules and focal points), valid as affiliation."""
    codes = {rule.affiliation for rule in table.rules} | {fp.agency for fp in table.focal_points}
    return sorted(code for code in codes if code not in ("*", "unknown") and _is_code(code))


def _is_code(text: str) -> bool:
    return 0 < len(text) <= 64 and all(
        ch.isascii() and (ch.isalnum() or ch in "-_.") for ch in text
    )


def _active_agencies(context: AppContext) -> list[str]:
    with context.sessions() as session:
        try:
            return agency_codes(context.routing.active(session).table)
        except NoRoutingTable:
            return []


@cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(package_folder("templates")),
        autoescape=select_autoescape(default=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )


@cache
def _languages() -> tuple[i18n.LanguageInfo, ...]:
    return tuple(i18n.shipped_languages())


def render_page(
    request: Request,
    context: AppContext,
    template: str,
    language: str,
    *,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
    **values: Any,
) -> HTMLResponse:
    """A page in `language` with a fresh CSRF pair; never cached."""
    cookie = _cookie_value(request)
    translations = i18n.translations_for(language)
    html = (
        _environment()
        .get_template(template)
        .render(
            gettext=translations.gettext,
            ngettext=translations.ngettext,
            lang=language,
            dir=i18n.direction(language),
            languages=_languages(),
            csrf_field=CSRF_FIELD,
            csrf_token=csrf_token(context.secret.subkey("csrf"), cookie),
            **values,
        )
    )
    response = HTMLResponse(
        html, status_code=status, headers={"Cache-Control": "no-store", **(headers or {})}
    )
    response.set_cookie(
        CSRF_COOKIE,
        cookie,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


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
        "report.html",
        language,
        status=status,
        headers=headers,
        values=dict(form or {}),
        errors=list(errors),
        error_for=dict(errors),
        countries=country_options(language),
        categories=CATEGORIES,
        agencies=_active_agencies(context),
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
    if not _csrf_passed(request, context, form):
        errors = _problem("csrf_invalid", language)
        return _form_page(request, context, language, form=form, errors=errors, status=400)
    try:
        report = ReportIn.model_validate(report_fields(form))
    except ValidationError as error:
        errors = field_errors(error, i18n.translations_for(language))
        return _form_page(request, context, language, form=form, errors=errors, status=422)
    submission = Submission(
        report=report,
        channel="web",
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
    return render_page(request, context, "receipt.html", language, receipt=accepted.receipt)


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
        "followup.html",
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
    if not _csrf_passed(request, context, form):
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
