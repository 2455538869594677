"""Pure ASGI middleware: body size limit, security headers, a safe access log."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from intake.errors import PROBLEM_JSON, PayloadTooLarge, problem_body

log = logging.getLogger("intake.access")

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)
# Swagger UI sets inline styles; its page (staff only) allows them and nothing more.
DOCS_CSP = CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
# Staff pages (SPEC section 10): still no inline script and no eval, but libsodium's
# WebAssembly may compile; never cached.
STAFF_CSP = CSP.replace("script-src 'self'", "script-src 'self' 'wasm-unsafe-eval'")
# The case page alone plays a voice case's recording, decrypted in the page, from a
# blob: URL (SPEC 17); no other page may load media from anywhere.
CASE_PAGE_CSP = STAFF_CSP + "; media-src blob:"
CASE_PAGE_PREFIX = "/inbox/cases/"
STAFF_PREFIXES = ("/staff", "/inbox", "/hotline", "/dashboard")
# The report form seals in the page (SPEC 11) with the same libsodium: its WebAssembly
# may compile there too; nothing else changes (no inline script, no eval).
SEALING_PAGES = ("/report",)
_SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]
HSTS = (b"strict-transport-security", b"max-age=31536000")
NO_STORE = (b"cache-control", b"no-store")
# Versioned static files are the only answers a cache may keep (SPEC 15 names the
# receipt, follow-up, case and console paths; every other answer is no-store too).
CACHEABLE_PREFIXES = ("/static/",)


def may_be_cached(path: str) -> bool:
    return path.startswith(CACHEABLE_PREFIXES)


class BodyTooLarge(HTTPException):
    """Raised inside `receive` when a body passes the limit.

    An HTTPException so that FastAPI's body parser re-raises it as is instead
    of turning it into a 400.
    """

    def __init__(self) -> None:
        super().__init__(status_code=413)


class BodyLimitMiddleware:
    """413 for bodies over `limit` bytes, declared or streamed, before any parsing."""

    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await _send_413(send)
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise BodyTooLarge()
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await _send_413(send)


async def _send_413(send: Send) -> None:
    error = PayloadTooLarge("The request body is larger than this service accepts.")
    body = json.dumps(
        problem_body(error.status, error.title, error.detail, type_uri=error.type_uri)
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", PROBLEM_JSON.encode()),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


class SecurityHeadersMiddleware:
    """Every response: nosniff, no-referrer, no framing; HTML also gets the CSP.

    `Cache-Control: no-store` on everything but static files (a receipt, a
    follow-up or case data is never kept by a browser or proxy cache), and HSTS
    when the public URL is https.
    """

    def __init__(self, app: ASGIApp, *, hsts: bool = False) -> None:
        self.app = app
        self.extra = [HSTS] if hsts else []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {key.lower() for key, _ in headers}
                headers += [pair for pair in _SECURITY_HEADERS if pair[0] not in present]
                headers += [pair for pair in self.extra if pair[0] not in present]
                if not may_be_cached(scope["path"]):
                    headers = [pair for pair in headers if pair[0].lower() != NO_STORE[0]]
                    headers.append(NO_STORE)
                if b"content-security-policy" not in present:
                    headers.append((b"content-security-policy", _policy(scope["path"]).encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


def is_staff_page(path: str) -> bool:
    return any(path == prefix or path.startswith(prefix + "/") for prefix in STAFF_PREFIXES)


def _policy(path: str) -> str:
    if path.startswith("/docs"):
        return DOCS_CSP
    if path.startswith(CASE_PAGE_PREFIX):
        return CASE_PAGE_CSP
    return STAFF_CSP if is_staff_page(path) or path in SEALING_PAGES else CSP


class AccessLogMiddleware:
    """Method, route template, status and duration: no address, query or body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status: dict[str, Any] = {"code": 500}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            route = scope.get("route")
            log.info(
                "request",
                extra={
                    "method": scope.get("method", ""),
                    "route": getattr(route, "path", "unmatched"),
                    "status_code": status["code"],
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
