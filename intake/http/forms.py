"""The page toolkit, forms half: reading a posted form, CSRF, field errors.

CSRF keeps no server state: a random value in a cookie and its HMAC in a
hidden field (double submit). Every staff and public form uses this.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from typing import Annotated, Any

from babel.support import NullTranslations
from fastapi import Depends, Request
from pydantic import ValidationError

from intake import i18n
from intake.context import AppContext
from intake.reports.field_errors import message_for
from intake.reports.schemas import reporter_rule

CSRF_COOKIE = "csrf"


CSRF_FIELD = "csrf_token"


MAX_FORM_FIELDS = 64


# (field, message): field "" is a form-wide problem shown only in the summary.
FieldError = tuple[str, str]


# Errors raised on a whole group (or the whole report) point at its first field.
_GROUP_ANCHOR = {
    "reporter": "reporter.name",
    "victim": "victim.name",
    "consent": "consent.contact_me",
}


_ROOT_ANCHOR = {"reporter_not_anonymous": "reporter.name", "reporter_required": "reporter.name"}


_COOKIE_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


async def form_fields(request: Request) -> dict[str, str]:
    """The posted text fields (files and repeated names beyond the last are ignored)."""
    async with request.form(max_files=0, max_fields=MAX_FORM_FIELDS) as form:
        return {key: value for key, value in form.multi_items() if isinstance(value, str)}


FormFields = Annotated[dict[str, str], Depends(form_fields)]


def field_errors(
    error: ValidationError,
    translations: NullTranslations,
    data: Mapping[str, Any] | None = None,
) -> list[FieldError]:
    """Each validation error as (form field name, message in the page language).

    With `data` (the fields as validated), the rules across fields that the
    model checks only once every field is valid are checked too, so that one
    round names every problem (SPEC 14).
    """
    codes: list[tuple[str, str]] = []
    for item in error.errors(include_url=False, include_context=False, include_input=False):
        loc = tuple(str(part) for part in item["loc"])
        codes.append((_field_of(loc, item["type"]), item["type"]))
    if data is not None:
        reporter = data.get("reporter")
        rule = reporter_rule(
            data.get("reporter_type"), reporter if isinstance(reporter, Mapping) else None
        )
        if rule is not None:
            codes.append((_ROOT_ANCHOR[rule], rule))
    found: list[FieldError] = []
    for field, code in codes:
        if all(known != field for known, _message in found):
            found.append((field, message_for(code, translations)))
    return found


def _field_of(loc: tuple[str, ...], code: str) -> str:
    if not loc:
        return _ROOT_ANCHOR.get(code, "")
    name = ".".join(loc)
    return _GROUP_ANCHOR.get(name, name)


def csrf_token(key: bytes, cookie: str) -> str:
    """The hidden-field value that goes with a cookie value."""
    return hmac.new(key, cookie.encode("ascii"), hashlib.sha256).hexdigest()


def csrf_valid(key: bytes, cookie: str | None, token: str | None) -> bool:
    if not cookie or not token or not _well_formed(cookie):
        return False
    return hmac.compare_digest(csrf_token(key, cookie).encode(), token.encode("utf-8", "replace"))


def _well_formed(cookie: str) -> bool:
    return 32 <= len(cookie) <= 64 and set(cookie) <= _COOKIE_CHARS


def cookie_value(request: Request) -> str:
    existing = request.cookies.get(CSRF_COOKIE)
    return existing if existing and _well_formed(existing) else secrets.token_urlsafe(32)


def csrf_passed(request: Request, context: AppContext, form: Mapping[str, str]) -> bool:
    return csrf_valid(
        context.secret.subkey("csrf"), request.cookies.get(CSRF_COOKIE), form.get(CSRF_FIELD)
    )


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


def page_problem(code: str, language: str) -> list[FieldError]:
    """A page-wide error (no field), in the page's language, for the error summary."""
    return [("", message_for(code, i18n.translations_for(language)))]
