"""Dependencies routes declare: the app context, the reporter's language, the source."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from intake import i18n, ratelimit
from intake.context import AppContext
from intake.http.client import limit_source


def get_context(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context


Context = Annotated[AppContext, Depends(get_context)]


def language_for(requested: str | None, request: Request, context: AppContext) -> str:
    """The report's language: as given (any BCP 47 primary tag), else negotiated."""
    if requested:
        return requested
    return i18n.negotiate_locale(
        request.query_params.get("lang"),
        request.headers.get("accept-language"),
        context.settings.default_language,
    )


def display_language(request: Request, context: AppContext, requested: str | None = None) -> str:
    """A shipped language to answer in (unshipped requests fall back)."""
    return i18n.negotiate_locale(
        requested or request.query_params.get("lang"),
        request.headers.get("accept-language"),
        context.settings.default_language,
    )


def client_source(request: Request, context: AppContext) -> bytes | None:
    """Keyed hash of the client's address (`intake.http.client`) for every limit.

    The address itself goes nowhere; an IPv6 address counts by its /64.
    """
    if request.client is None:
        return None
    return ratelimit.source_key(context.secret, limit_source(request.client.host))
