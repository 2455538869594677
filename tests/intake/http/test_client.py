"""`intake.http.client`: whose address a limit counts and which scheme a cookie sees."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from channels.registry import installed
from crypto.kdf import KdfCost
from intake.app import create_app
from intake.http.client import limit_source, resolve_client
from intake.settings import Settings, parse_networks

TRUSTED = parse_networks("10.0.0.0/8, 2001:db8:1::1")


def _headers(**values: str) -> list[tuple[bytes, bytes]]:
    return [(k.replace("_", "-").encode(), v.encode()) for k, v in values.items()]


def test_headers_from_an_untrusted_peer_are_ignored() -> None:
    headers = _headers(x_forwarded_for="192.0.2.7", x_forwarded_proto="https")
    assert resolve_client("198.51.100.1", "http", headers, TRUSTED) == ("198.51.100.1", "http")
    assert resolve_client("198.51.100.1", "http", headers, ()) == ("198.51.100.1", "http")


def test_the_rightmost_address_not_itself_trusted_is_the_client() -> None:
    headers = _headers(
        x_forwarded_for="203.0.113.9, 192.0.2.7, 10.1.1.1", x_forwarded_proto="https"
    )
    assert resolve_client("10.0.0.2", "http", headers, TRUSTED) == ("192.0.2.7", "https")


def test_several_forwarded_for_headers_read_as_one_list() -> None:
    headers = [(b"x-forwarded-for", b"192.0.2.1"), (b"x-forwarded-for", b"192.0.2.2")]
    assert resolve_client("10.0.0.2", "http", headers, TRUSTED)[0] == "192.0.2.2"


def test_a_garbled_hop_stops_the_walk() -> None:
    headers = _headers(x_forwarded_for="192.0.2.7, not-an-address, 10.3.3.3")
    assert resolve_client("10.0.0.2", "http", headers, TRUSTED)[0] == "10.3.3.3"


def test_a_strange_proto_is_not_believed() -> None:
    headers = _headers(x_forwarded_proto="gopher")
    assert resolve_client("10.0.0.2", "http", headers, TRUSTED) == ("10.0.0.2", "http")


def test_ipv6_trusted_peer_and_ipv4_mapped_addresses() -> None:
    headers = _headers(x_forwarded_for="::ffff:192.0.2.8")
    assert resolve_client("2001:db8:1::1", "http", headers, TRUSTED)[0] == "192.0.2.8"


@pytest.mark.parametrize(
    ("host", "source"),
    [
        ("192.0.2.7", "192.0.2.7"),
        ("2001:db8:aa:bb:1:2:3:4", "2001:db8:aa:bb::/64"),
        ("2001:db8:aa:bb:ffff::9", "2001:db8:aa:bb::/64"),
        ("::ffff:192.0.2.7", "192.0.2.7"),
        ("testclient", "testclient"),
    ],
)
def test_ipv6_sources_count_by_their_64(host: str, source: str) -> None:
    assert limit_source(host) == source


@pytest.fixture
def behind_proxy(settings: Settings, loaded_routing: str) -> Settings:
    return settings.model_copy(
        update={"trusted_proxies": "10.0.0.1", "followup_limit": "2/hour", "public_url": None}
    )


def _client(settings: Settings, kdf_cost: KdfCost, peer: str) -> TestClient:
    app = create_app(settings, channels=installed(), receipt_cost=kdf_cost)
    return TestClient(app, base_url="http://intake.internal", client=(peer, 4000))


def _guess(client: TestClient, forwarded_for: str | None = None) -> int:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    body = {"receipt": "1234 5678 9012 3456"}
    return client.post("/api/v1/followup", json=body, headers=headers).status_code


def test_limits_count_the_forwarded_client_only_from_a_trusted_proxy(
    behind_proxy: Settings, kdf_cost: KdfCost
) -> None:
    with _client(behind_proxy, kdf_cost, "10.0.0.1") as proxy:
        assert [_guess(proxy, "192.0.2.1") for _ in range(3)] == [404, 404, 429]
        assert _guess(proxy, "192.0.2.2") == 404  # another client behind the same proxy
    with _client(behind_proxy, kdf_cost, "198.51.100.5") as direct:
        # Not a trusted peer: its X-Forwarded-For is ignored, so new "clients" do not help.
        assert [_guess(direct, f"192.0.2.{n}") for n in range(10, 13)] == [404, 404, 429]


def test_cookies_are_secure_when_a_trusted_proxy_says_https(
    behind_proxy: Settings, kdf_cost: KdfCost
) -> None:
    with _client(behind_proxy, kdf_cost, "10.0.0.1") as proxy:
        secure = proxy.get("/report", headers={"X-Forwarded-Proto": "https"})
        plain = proxy.get("/report")
    with _client(behind_proxy, kdf_cost, "198.51.100.5") as direct:
        spoofed = direct.get("/report", headers={"X-Forwarded-Proto": "https"})
    assert "secure" in secure.headers["set-cookie"].lower()
    assert "secure" not in plain.headers["set-cookie"].lower()
    assert "secure" not in spoofed.headers["set-cookie"].lower()
