"""422 for JSON bodies nested deeper than `MAX_DEPTH` levels, before any parsing (SPEC 15).

The body is already bounded by `BodyLimitMiddleware` (this middleware runs
inside it). Counting is linear in the body: strings are cut out with one
regular expression, then only brackets are counted; a body with fewer than
`MAX_DEPTH` openers at all is passed without counting. The body is then handed
on to the app unchanged.
"""

from __future__ import annotations

import json
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from intake.errors import PROBLEM_JSON, InvalidInput, problem_body
from intake.http.tarpit import mark_refused_body

MAX_DEPTH = 32
TOO_DEEP = f"The JSON body is nested deeper than {MAX_DEPTH} levels."
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(set(range(256)) - set(b"[]{}"))


def nesting_depth_exceeds(body: bytes, limit: int = MAX_DEPTH) -> bool:
    """True when some value of `body` (JSON text, valid or not) is nested deeper than `limit`."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    brackets = _STRING.sub(b"", body).translate(None, delete=_NOT_BRACKETS)
    depth = 0
    for byte in brackets:
        depth += 1 if byte in b"[{" else -1
        if depth > limit:
            return True
    return False


def _is_json(scope: Scope) -> bool:
    """What FastAPI would parse as JSON: no content type, or application/json or …+json."""
    for key, value in scope.get("headers", []):
        if key == b"content-type":
            media: bytes = value.split(b";", 1)[0].strip().lower()
            return media == b"application/json" or (
                media.startswith(b"application/") and media.endswith(b"+json")
            )
    return True


class JsonDepthMiddleware:
    def __init__(self, app: ASGIApp, *, limit: int = MAX_DEPTH) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") in ("GET", "HEAD") or not _is_json(scope):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away mid-body: nobody to answer, nothing to do
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if nesting_depth_exceeds(body, self.limit):
            mark_refused_body(scope)
            await _send_422(send)
            return
        await self.app(scope, _replay(body, receive), send)


def _replay(body: bytes, receive: Receive) -> Receive:
    delivered = False

    async def replayed() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


async def _send_422(send: Send) -> None:
    error = InvalidInput(TOO_DEEP)
    body = json.dumps(
        problem_body(error.status, error.title, error.detail, type_uri=error.type_uri)
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": error.status,
            "headers": [
                (b"content-type", PROBLEM_JSON.encode()),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
