"""The real twilio REST Client, optionally pointed at another API host.

The twilio package has no base-URL setting; its supported extension point is
`Client(..., http_client=...)`. `RebasedHttpClient` swaps scheme and host of
every `https://*.twilio.com` URL for `INTAKE_TWILIO_API_BASE` (a loopback fake
in tests, a regional edge in production) and leaves everything else as the
real client sends it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import requests
from twilio.base.exceptions import TwilioException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from intake.settings import Settings
from intake.worker.delivery import DeliveryError, http_failure

T = TypeVar("T")
# Per request; our own lease (claim.LEASE) leaves room for several of these.
TWILIO_TIMEOUT_S = 15.0
# twilio logs request URLs and headers at INFO; keep them out of our logs entirely.
_quiet = logging.getLogger("channels.twilio_http")
_quiet.disabled = True
# urllib3 logs each request line (Twilio's paths name CallSids, RecordingSids and
# MessageSids) at DEBUG: never below WARNING, whatever INTAKE_LOG_LEVEL says.
logging.getLogger("urllib3.connectionpool").setLevel(logging.WARNING)


class TwilioNotConfigured(Exception):
    """INTAKE_TWILIO_ACCOUNT_SID or INTAKE_TWILIO_AUTH_TOKEN is missing."""


def parse_api_base(value: str) -> tuple[str, str, str]:
    """(scheme, host[:port], path prefix) of an absolute http(s) base URL."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("INTAKE_TWILIO_API_BASE must be an absolute http(s) URL")
    return parts.scheme, parts.netloc, parts.path.rstrip("/")


class RebasedHttpClient(TwilioHttpClient):  # type: ignore[misc]  # twilio ships no types
    def __init__(self, api_base: str | None, *, timeout: float = TWILIO_TIMEOUT_S) -> None:
        super().__init__(timeout=timeout, logger=_quiet)
        self._base = parse_api_base(api_base) if api_base else None

    def rebase(self, url: str) -> str:
        if self._base is None:
            return url
        parts = urlsplit(url)
        host = parts.hostname or ""
        if parts.scheme != "https" or not (host == "twilio.com" or host.endswith(".twilio.com")):
            return url
        scheme, netloc, prefix = self._base
        return urlunsplit((scheme, netloc, prefix + parts.path, parts.query, parts.fragment))

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        return super().request(method, self.rebase(url), *args, **kwargs)

    def get_bytes(
        self, url: str, *, auth: tuple[str, str], max_bytes: int
    ) -> tuple[int, str, bytes]:
        """(status, content type, body) of a binary GET (a recording's media), rebased.

        The twilio client decodes every body as text, which would damage audio;
        this reads the raw bytes, at most `max_bytes` (more: ValueError).
        """
        session = self.session or requests.Session()
        with session.get(
            self.rebase(url), auth=auth, timeout=self.timeout, stream=True, proxies=self.proxy
        ) as response:
            body = bytearray()
            for chunk in response.iter_content(chunk_size=64 * 1024):
                body += chunk
                if len(body) > max_bytes:
                    raise ValueError("response larger than allowed")
            kind = response.headers.get("Content-Type", "")
            return response.status_code, kind, bytes(body)


def twilio_configured(settings: Settings) -> bool:
    return settings.twilio_account_sid is not None and settings.twilio_auth_token is not None


def make_client(settings: Settings) -> Any:
    """A twilio `Client` for the configured account (typed Any: twilio ships no types)."""
    if settings.twilio_account_sid is None or settings.twilio_auth_token is None:
        raise TwilioNotConfigured
    return Client(
        settings.twilio_account_sid,
        settings.twilio_auth_token.get_secret_value(),
        http_client=RebasedHttpClient(settings.twilio_api_base),
    )


def call_twilio(action: Callable[[], T], *, not_found_ok: bool = False) -> T | None:
    """Run one REST call, turning its failures into content-free codes."""
    try:
        return action()
    except TwilioException as exc:
        status = getattr(exc, "status", None)
        if not isinstance(status, int):
            raise DeliveryError("twilio_error") from None
        if status == 404 and not_found_ok:
            return None
        raise http_failure("twilio", status) from None
    except requests.Timeout:
        raise DeliveryError("twilio_timeout") from None
    except requests.RequestException:
        raise DeliveryError("twilio_unreachable") from None
