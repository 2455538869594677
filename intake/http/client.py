"""Who is asking, and over what: the one place that believes a proxy's headers, or not.

`resolve_client` is the only function that reads `X-Forwarded-For` and
`X-Forwarded-Proto` (SPEC 15). Only when the TCP peer is in
INTAKE_TRUSTED_PROXIES are they believed: the client is the rightmost
forwarded address that is not itself a trusted proxy, and the scheme is the
proxy's. From anyone else both headers are ignored. `ClientMiddleware` writes
the answer into the ASGI scope, so `request.client` and `request.url.scheme`
mean the same thing to every limit, every cookie and every page.

`limit_source` is what a rate limit counts: the address, with IPv6 cut to its
/64 (one subscriber usually holds a whole /64). The address itself is never
stored: callers hash it (`intake.ratelimit.source_key`).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from intake.settings import Network, Settings

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
_FORWARDED_FOR = b"x-forwarded-for"
_FORWARDED_PROTO = b"x-forwarded-proto"
_SCHEMES = {"http", "https"}


def _address(text: str) -> Address | None:
    try:
        address = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_trusted(host: str | None, trusted: Sequence[Network]) -> bool:
    address = _address(host) if host else None
    return address is not None and any(address in network for network in trusted)


def _header_values(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> list[str]:
    values: list[str] = []
    for key, value in headers:
        if key.lower() == name:
            values += [part.strip() for part in value.decode("latin-1").split(",")]
    return [value for value in values if value]


def resolve_client(
    peer: str | None,
    scheme: str,
    headers: Iterable[tuple[bytes, bytes]],
    trusted: Sequence[Network],
) -> tuple[str | None, str]:
    """The client's address and the scheme it used, believing proxies only when trusted."""
    if not trusted or not is_trusted(peer, trusted):
        return peer, scheme
    headers = list(headers)
    forwarded = _header_values(headers, _FORWARDED_FOR)
    client = peer
    for hop in reversed(forwarded):
        address = _address(hop)
        if address is None:
            break  # a garbled hop: the last trusted one is all we know
        client = str(address)
        if not any(address in network for network in trusted):
            break
    protos = _header_values(headers, _FORWARDED_PROTO)
    if protos and protos[-1].lower() in _SCHEMES:
        scheme = protos[-1].lower()
    return client, scheme


def limit_source(host: str) -> str:
    """What one source is for a limit: the address, an IPv6 address by its /64."""
    address = _address(host)
    if address is None:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


class ClientMiddleware:
    """Puts `resolve_client`'s answer into the scope, before anything reads it."""

    def __init__(self, app: ASGIApp, *, trusted: Sequence[Network]) -> None:
        self.app = app
        self.trusted = tuple(trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and self.trusted:
            peer = scope.get("client")
            host, scheme = resolve_client(
                peer[0] if peer else None,
                scope.get("scheme", "http"),
                scope.get("headers", []),
                self.trusted,
            )
            if host is not None:
                scope["client"] = (host, peer[1] if peer else 0)
            scope["scheme"] = scheme
        await self.app(scope, receive, send)


@dataclass(frozen=True)
class StaffCookie:
    """Name, path and `Secure` of a staff session cookie (SPEC 15: `__Host-…` over https)."""

    name: str
    path: str
    secure: bool


def staff_cookie(request: Request, settings: Settings, *, name: str, path: str) -> StaffCookie:
    if settings.https:
        return StaffCookie(name=f"__Host-{name}", path="/", secure=True)
    return StaffCookie(name=name, path=path, secure=request.url.scheme == "https")
