"""The page toolkit, pages half: rendering a server-side page in a language.

Every page comes with a fresh CSRF pair and is never cached. Public pages all
carry the one neutral `<title>`, `site_name` (SPEC 14), from `templates/base.html`.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from functools import cache
from typing import Any

from babel import Locale
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from intake import i18n
from intake.context import AppContext
from intake.http.forms import CSRF_COOKIE, CSRF_FIELD, cookie_value, csrf_token
from intake.paths import package_folder
from routing.constants import is_country_code
from routing.table import RoutingTable


@cache
def country_options(language: str) -> tuple[tuple[str, str], ...]:
    """(code, localized name) of every assigned country, sorted by name."""
    names = Locale.parse(language).territories
    pairs = [(str(code), str(name)) for code, name in names.items() if is_country_code(code)]
    return tuple(sorted(pairs, key=lambda pair: _sort_key(pair[1])))


def _sort_key(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def agency_codes(table: RoutingTable, country: str | None = None) -> list[str]:
    """Agency codes the active table knows (rules and focal points), valid as affiliation;
    with `country`, only those of that country (the SMS organisation question)."""
    codes = {
        rule.affiliation for rule in table.rules if country is None or rule.country == country
    } | {fp.agency for fp in table.focal_points if country is None or fp.country == country}
    return sorted(code for code in codes if code not in ("*", "unknown") and _is_code(code))


def _is_code(text: str) -> bool:
    return 0 < len(text) <= 64 and all(
        ch.isascii() and (ch.isalnum() or ch in "-_.") for ch in text
    )


def active_agencies(context: AppContext) -> list[str]:
    with context.sessions() as session:
        table = context.routing.active_or_none(session)
    return agency_codes(table) if table is not None else []


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
    cookie = cookie_value(request)
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
            site_name=context.settings.site_name,
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
        secure=request.url.scheme == "https",  # the scheme intake.http.client resolved
    )
    return response
