"""One error hierarchy, rendered as RFC 9457 problem+json under /api.

Messages are fixed texts written here, never built from submitted values, so a
complaint can never be echoed back in an error body or a log line.
"""

from __future__ import annotations

from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from intake import i18n
from intake.reports.field_errors import localized_errors

PROBLEM_JSON = "application/problem+json"


class IntakeError(Exception):
    """Base of every error the service answers on purpose."""

    status: ClassVar[int] = 400
    title: ClassVar[str] = "Bad request"
    slug: ClassVar[str] = "bad-request"

    def __init__(self, detail: str | None = None, *, headers: dict[str, str] | None = None):
        self.detail = detail or self.title
        self.headers = headers or {}
        super().__init__(self.detail)

    @property
    def type_uri(self) -> str:
        return f"/problems/{self.slug}"


class InvalidInput(IntakeError):
    status, title, slug = 422, "Invalid input", "invalid-input"

    def __init__(self, detail: str | None = None, *, errors: list[dict[str, Any]] | None = None):
        super().__init__(detail)
        self.errors = errors or []


class BadRequest(IntakeError):
    """A request not shaped as its sender's protocol says (a malformed Twilio webhook)."""


class Unauthorized(IntakeError):
    status, title, slug = 401, "Not authenticated", "unauthorized"

    def __init__(self, detail: str | None = None):
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(IntakeError):
    status, title, slug = 403, "Forbidden", "forbidden"


class NotFound(IntakeError):
    status, title, slug = 404, "Not found", "not-found"


class Conflict(IntakeError):
    status, title, slug = 409, "Conflict", "conflict"


class PayloadTooLarge(IntakeError):
    status, title, slug = 413, "Request body too large", "payload-too-large"


class TooManyRequests(IntakeError):
    status, title, slug = 429, "Too many requests", "too-many-requests"

    def __init__(self, retry_after_s: int, detail: str | None = None):
        super().__init__(detail, headers={"Retry-After": str(max(1, retry_after_s))})
        self.retry_after_s = max(1, retry_after_s)


class ServiceUnavailable(IntakeError):
    status, title, slug = 503, "Service unavailable", "unavailable"


def problem_doc(description: str) -> dict[str, Any]:
    """An OpenAPI `responses` entry for a problem+json answer."""
    return {"content": {PROBLEM_JSON: {}}, "description": description}


def problem_body(
    status: int, title: str, detail: str, *, type_uri: str = "about:blank"
) -> dict[str, Any]:
    """The RFC 9457 body every error answer carries (also the middleware's 413)."""
    return {"type": type_uri, "title": title, "status": status, "detail": detail}


def problem(
    status: int,
    title: str,
    detail: str,
    *,
    type_uri: str = "about:blank",
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    body = problem_body(status, title, detail, type_uri=type_uri)
    body.update(extra or {})
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


async def _intake_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, IntakeError)  # noqa: S101 - registered for IntakeError only
    extra = {"errors": exc.errors} if isinstance(exc, InvalidInput) and exc.errors else None
    return problem(
        exc.status, exc.title, exc.detail, type_uri=exc.type_uri, headers=exc.headers, extra=extra
    )


async def _validation_error(request: Request, exc: Exception) -> Response:
    """422 in the reporter's language: the body's `language`, else the request's."""
    assert isinstance(exc, RequestValidationError)  # noqa: S101
    body = exc.body if isinstance(exc.body, dict) else {}
    requested = body.get("language") if isinstance(body.get("language"), str) else None
    language = i18n.negotiate_locale(
        requested or request.query_params.get("lang"), request.headers.get("accept-language")
    )
    errors = localized_errors(list(exc.errors()), i18n.translations_for(language))
    return problem(
        422,
        InvalidInput.title,
        errors[0]["msg"] if errors else "The request does not match the expected format.",
        type_uri=f"/problems/{InvalidInput.slug}",
        extra={"errors": errors},
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)  # noqa: S101
    title = _HTTP_TITLES.get(exc.status_code, "Error")
    return problem(exc.status_code, title, title, headers=getattr(exc, "headers", None))


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    # The traceback goes to the log through uvicorn's handler; the body says nothing.
    return problem(500, "Internal error", "The server could not complete the request.")


_HTTP_TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Invalid input",
    429: "Too many requests",
}


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(IntakeError, _intake_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
