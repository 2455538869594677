"""Abusive clients for the abuse tests and bench/bench_abuse.py.

Every client can speak from its own loopback address (127.0.0.0/8 all
reaches the server on 127.0.0.1), so per-source rate limits see a flooder
and an ordinary reporter as different sources, as they would be in the field.
"""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

import httpx

from testkit.cases import report

Send = Callable[[httpx.Client], int]


def source_address(number: int) -> str:
    """Loopback address number `number` (0 to 15 million), never 127.0.0.1 itself."""
    return f"127.{number // 62_500 % 250}.{number // 250 % 250}.{number % 250 + 2}"


def client_from(base_url: str, source: int, *, timeout_s: float = 30.0) -> httpx.Client:
    transport = httpx.HTTPTransport(local_address=source_address(source))
    return httpx.Client(base_url=base_url, transport=transport, timeout=timeout_s)


def unique_report(tag: str = "abuse") -> dict[str, Any]:
    return report(narrative=f"{tag} {uuid.uuid4().hex}")


def send_report(client: httpx.Client) -> int:
    return client.post("/api/v1/reports", json=unique_report()).status_code


def guess_receipt(client: httpx.Client) -> int:
    receipt = f"{uuid.uuid4().int % 10**16:016d}"
    return client.post("/api/v1/followup", json={"receipt": receipt}).status_code


def nested_lists(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def nested_in_field(depth: int) -> bytes:
    """A report whose narrative is `depth` nested objects."""
    return b'{"narrative": ' + b'{"a": ' * depth + b"1" + b"}" * depth + b"}"


class Flood:
    """Threads sending `send` from one source until stopped; counts the answers."""

    def __init__(
        self, base_url: str, source: int, send: Send, *, threads: int = 4, limit: int = 10_000
    ) -> None:
        self.statuses: Counter[int | str] = Counter()
        self._base_url, self._source, self._send, self._limit = base_url, source, send, limit
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def _run(self) -> None:
        with client_from(self._base_url, self._source) as client:
            while not self._stop.is_set():
                try:
                    status: int | str = self._send(client)
                except httpx.TransportError as exc:
                    status = type(exc).__name__
                with self._lock:
                    self.statuses[status] += 1
                    if self.statuses.total() >= self._limit:
                        self._stop.set()

    def wait(self, timeout_s: float) -> None:
        """Until `limit` answers came back (or the time is up)."""
        self._stop.wait(timeout_s)

    def __enter__(self) -> Self:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)


class SlowBodies:
    """`count` connections (each from its own source) that send a report's headers,
    then its body a few bytes at a time.

    `answers` holds the status line each connection finally got (or the
    error), so a test can check the slow requests were served correctly too.
    """

    def __init__(
        self, base_url: str, first_source: int, *, count: int = 20, seconds: float = 3.0
    ) -> None:
        parts = urlsplit(base_url)
        self._address = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._seconds = seconds
        self.answers: list[str] = []
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._run, args=(first_source + n,), daemon=True)
            for n in range(count)
        ]

    def _run(self, source: int) -> None:
        body = httpx.Request("POST", "/", json=unique_report("slow body")).read()
        head = (
            f"POST /api/v1/reports HTTP/1.1\r\nHost: {self._address[0]}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n"
        ).encode("ascii")
        try:
            with socket.create_connection(
                self._address, timeout=30, source_address=(source_address(source), 0)
            ) as connection:
                connection.sendall(head)
                pause = self._seconds / len(body) * 8
                for start in range(0, len(body), 8):
                    connection.sendall(body[start : start + 8])
                    time.sleep(pause)
                answer = connection.recv(64).split(b"\r\n", 1)[0].decode("latin-1")
        except OSError as exc:
            answer = type(exc).__name__
        with self._lock:
            self.answers.append(answer)

    def __enter__(self) -> Self:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for thread in self._threads:
            thread.join(timeout=self._seconds + 60)
