"""The HTTP protocol `intake serve` runs: uvicorn's h11 with a deadline for slow clients.

A request whose head and body together take longer than
INTAKE_REQUEST_TIMEOUT_S (default 30 s, SPEC 15) is dropped: the
connection is closed, and an app still waiting for the body sees a
disconnect. The clock starts when the connection opens, and again after
each answer (an idle keep-alive connection is closed sooner, after
uvicorn's 5 s). Time the app spends on a complete request does not count.
uvicorn imports this class by name in every worker process
(`http="intake.http.server:DeadlineH11Protocol"`).
"""

from __future__ import annotations

import asyncio
import functools

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from intake.settings import Settings

PROTOCOL = "intake.http.server:DeadlineH11Protocol"
_RECEIVING = (h11.IDLE, h11.SEND_BODY)


@functools.cache
def request_timeout_s() -> float:
    """INTAKE_REQUEST_TIMEOUT_S of this process (read once, at the first connection)."""
    return Settings().request_timeout_s


class DeadlineH11Protocol(H11Protocol):
    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()  # the next request on this connection gets its own time

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(request_timeout_s(), self._expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        self._deadline = None
        if self.conn.their_state in _RECEIVING and not self.transport.is_closing():
            self.transport.close()  # the head or the body is still not here: drop it
