"""Refusals to a source that keeps being refused are answered late.

A client that keeps sending what the service refuses (over a rate limit:
429; too large: 413; nested too deep: 422) costs the server little per
request but, waiting for each answer and sending again at once, it sends
thousands a second, and on a small machine those thousands take the CPU
from reporters. So after `offences` refusals to one source within
`window_s`, each further refusal to it waits `delay_s` before it is sent.
The wait is an asyncio sleep: it holds the connection, no thread and no
CPU. Only refusals wait; the same source's other requests are answered at
once (a whole camp may share one address behind NAT). At most `max_held`
refusals wait at once, and at most `per_source` of one source, so waiting
never uses up the connection cap and one source cannot fill the waiting
room to have everyone else's refusals sent at once; a refusal that finds no
room goes out at once with `Connection: close`, so a resend costs a new
connection. Sources are kept in memory only, as a keyed hash (a key made
per process), at most `max_sources` of them.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from intake.http.client import limit_source

REFUSED_BODY = "intake.refused_body"  # scope["state"] flag: a body refused before parsing
_REFUSALS = {413, 429}


def mark_refused_body(scope: Scope) -> None:
    """Count this request's answer as a refusal (the JSON depth check, whose 422 is not)."""
    scope.setdefault("state", {})[REFUSED_BODY] = True


class Offences:
    """Recent refusals per source; `record` says whether this one is one too many."""

    def __init__(
        self,
        *,
        limit: int = 3,
        window_s: float = 60.0,
        max_sources: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._limit, self._window_s, self._max_sources = limit, window_s, max_sources
        self._clock = clock
        self._key = secrets.token_bytes(32)
        self._recent: OrderedDict[bytes, deque[float]] = OrderedDict()

    def key(self, source: str) -> bytes:
        return hashlib.blake2b(source.encode(), key=self._key, digest_size=32).digest()

    def record(self, key: bytes) -> bool:
        now = self._clock()
        times = self._recent.pop(key, None) or deque(maxlen=self._limit + 1)
        while times and now - times[0] > self._window_s:
            times.popleft()
        times.append(now)
        self._recent[key] = times  # the most recently refused last
        if len(self._recent) > self._max_sources:
            self._recent.popitem(last=False)
        return len(times) > self._limit

    def sources(self) -> int:
        return len(self._recent)


class TarpitMiddleware:
    """Runs inside ClientMiddleware, so the source is the one every limit counts."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        delay_s: float,
        offences: Offences | None = None,
        max_held: int = 64,
        per_source: int = 4,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.app = app
        self.delay_s, self.max_held, self.per_source = delay_s, max_held, per_source
        self._sleep = sleep
        self.offences = offences or Offences()
        self.held = 0
        self._held_by: dict[bytes, int] = {}  # only sources with a refusal waiting now

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client")
        if scope["type"] != "http" or self.delay_s <= 0 or not client:
            await self.app(scope, receive, send)
            return
        host = client[0]

        async def send_late_if_refused(message: Message) -> None:
            if message["type"] == "http.response.start" and _is_refusal(message, scope):
                key = self.offences.key(limit_source(host))  # hashed for refusals only
                if self.offences.record(key) and not await self._waited(key):
                    message = _closing(message)  # no room to wait: a resend needs a new connection
            await send(message)

        await self.app(scope, receive, send_late_if_refused)

    async def _waited(self, key: bytes) -> bool:
        """Wait `delay_s` when there is room (True), else at once (False)."""
        mine = self._held_by.get(key, 0)
        if self.held >= self.max_held or mine >= self.per_source:
            return False
        self.held += 1  # one event loop: no lock needed
        self._held_by[key] = mine + 1
        try:
            await self._sleep(self.delay_s)
        finally:
            self.held -= 1
            left = self._held_by.pop(key) - 1
            if left:
                self._held_by[key] = left
        return True


def _closing(message: Message) -> Message:
    headers = [(name, value) for name, value in message.get("headers", []) if name != b"connection"]
    return {**message, "headers": [*headers, (b"connection", b"close")]}


def _is_refusal(message: Message, scope: Scope) -> bool:
    return message["status"] in _REFUSALS or bool(scope.get("state", {}).get(REFUSED_BODY))
