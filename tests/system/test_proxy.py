"""A real `intake serve` behind a real reverse proxy on loopback (SPEC 15).

With INTAKE_TRUSTED_PROXIES naming the proxy, every limit counts the client
the proxy names in `X-Forwarded-For`, so one guesser does not lock out the
other reporters who share the proxy; without it, the headers count for nothing.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest
from testkit.abuse import client_from, guess_receipt
from testkit.live import StartServer
from testkit.proxy import ReverseProxy

pytestmark = [
    pytest.mark.slow,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

FOLLOWUP_LIMIT = 20  # failed look-ups an hour per source: the default


def _hour() -> int:
    return int(datetime.now(UTC).timestamp()) // 3600


@pytest.mark.timeout(120)
def test_wrong_receipts_through_the_proxy_do_not_lock_out_another_client(
    live_server: StartServer,
) -> None:
    server = live_server(INTAKE_TRUSTED_PROXIES="127.0.0.1/32")
    with ReverseProxy(server.base_url) as proxy:
        hour = _hour()
        with client_from(proxy.base_url, 700) as guesser:
            statuses = Counter(guess_receipt(guesser) for _ in range(FOLLOWUP_LIMIT + 1))
        with client_from(proxy.base_url, 701) as other:
            assert guess_receipt(other) == 404  # counted as itself, not as the proxy
            assert other.get("/healthz").status_code == 200
    if _hour() == hour:  # the guesser's window did not turn over meanwhile
        assert statuses == {404: FOLLOWUP_LIMIT, 429: 1}, statuses


@pytest.mark.timeout(120)
def test_without_trusted_proxies_forwarded_headers_count_for_nothing(
    live_server: StartServer,
) -> None:
    server = live_server()
    hour = _hour()
    with client_from(server.base_url, 710) as guesser:
        statuses = Counter(
            guesser.post(
                "/api/v1/followup",
                json={"receipt": "1234 5678 9012 3456"},
                headers={"X-Forwarded-For": f"10.1.{n}.1"},  # a new "client" each time
            ).status_code
            for n in range(FOLLOWUP_LIMIT + 1)
        )
    if _hour() == hour:
        assert statuses == {404: FOLLOWUP_LIMIT, 429: 1}, statuses
