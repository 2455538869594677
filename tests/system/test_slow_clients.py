"""Slow clients against a real `intake serve` (SPEC 15): dropped after the request deadline.

The deadline is INTAKE_REQUEST_TIMEOUT_S (30 s by default), lowered here to
2 s; a client that trickles its head or its body past it finds the connection
closed. Beyond INTAKE_MAX_CONNECTIONS connections a request gets 503.
"""

from __future__ import annotations

import select
import socket
import time
from urllib.parse import urlsplit

import httpx
import pytest
from testkit.live import StartServer

pytestmark = [
    pytest.mark.slow,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

TRICKLE_FOR_S = 15.0  # far beyond the 2 s deadline


def _connect(base_url: str) -> socket.socket:
    parts = urlsplit(base_url)
    return socket.create_connection((parts.hostname, parts.port), timeout=5)


def _trickle(sock: socket.socket, first: bytes, drip: bytes) -> bytes | None:
    """Send `first`, then `drip` every 0.3 s; the answer when closed, None if never."""
    sock.sendall(first)
    received = b""
    deadline = time.monotonic() + TRICKLE_FOR_S
    while time.monotonic() < deadline:
        try:
            sock.sendall(drip)
            readable, _, _ = select.select([sock], [], [], 0.3)
            if readable:
                data = sock.recv(65536)
                if not data:
                    return received
                received += data
        except (BrokenPipeError, ConnectionResetError):
            return received
    return None


@pytest.mark.timeout(90)
def test_a_trickled_head_or_body_is_dropped(live_server: StartServer) -> None:
    server = live_server(INTAKE_REQUEST_TIMEOUT_S="2")
    with _connect(server.base_url) as head:
        answer = _trickle(head, b"POST /api/v1/followup HTTP/1.1\r\nHost: x\r\n", b"X-A: b\r\n")
    assert answer is not None, "a trickled head was kept open"
    assert b"200" not in answer
    assert b"404" not in answer
    start = b"POST /api/v1/reports HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    with _connect(server.base_url) as body:
        answer = _trickle(body, start + b"Content-Length: 100000\r\n\r\n{", b" ")
    assert answer is not None, "a trickled body was kept open"
    assert b"201" not in answer
    assert httpx.get(server.base_url + "/healthz").status_code == 200  # others are served


@pytest.mark.timeout(90)
def test_connections_beyond_the_limit_get_503(live_server: StartServer) -> None:
    server = live_server(INTAKE_MAX_CONNECTIONS="3")
    idle = [_connect(server.base_url) for _ in range(3)]
    try:
        time.sleep(0.5)  # let the server accept them
        assert httpx.get(server.base_url + "/healthz").status_code == 503
    finally:
        for sock in idle:
            sock.close()
    time.sleep(0.5)
    assert httpx.get(server.base_url + "/healthz").status_code == 200
