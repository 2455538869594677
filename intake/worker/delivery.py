"""What a handler reports when a delivery does not go through.

`code` is a short, content-free reason (it is stored as the entry's
`last_error` and logged): never an address, a number, a body or an exception
message, which may quote any of them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

_CODE = re.compile(r"^[a-z0-9_]{1,40}$")
# Fixable by the operator (credentials) or by waiting (throttling, timeouts).
_RETRYABLE_4XX = frozenset({401, 403, 408, 425, 429})


class DeliveryError(Exception):
    """A failed delivery; `permanent` ones are not retried.

    `waits` marks a delivery this worker cannot even try (its transport is not
    configured): the entry stays pending, no attempt is counted, and it is
    tried again once a worker with that transport runs.
    """

    def __init__(self, code: str, *, permanent: bool = False, waits: bool = False) -> None:
        if not _CODE.match(code):
            raise ValueError("delivery error codes are short snake_case words")
        if permanent and waits:
            raise ValueError("a delivery that waits is not permanent")
        super().__init__(code)
        self.code = code
        self.permanent = permanent
        self.waits = waits


def http_failure(prefix: str, status: int) -> DeliveryError:
    """A refusal by an HTTP peer.

    Redirects (refused: they could downgrade the scheme) and 4xx other than
    the retryable ones are the request's or the address's fault, so retrying
    would not help; 5xx and the rest are retried with backoff.
    """
    permanent = 300 <= status < 500 and status not in _RETRYABLE_4XX
    return DeliveryError(f"{prefix}_{status}", permanent=permanent)


def load_payload(text: str) -> dict[str, Any]:
    try:
        payload = json.loads(text)
    except ValueError:
        raise DeliveryError("bad_payload", permanent=True) from None
    if not isinstance(payload, dict):
        raise DeliveryError("bad_payload", permanent=True)
    return payload


def text_field(payload: Mapping[str, Any], name: str) -> str:
    value = payload.get(name)
    if not isinstance(value, str) or not value:
        raise DeliveryError("bad_payload", permanent=True)
    return value


Handler = Callable[[Mapping[str, Any]], None]
"""Delivers one payload or raises DeliveryError; any other exception is a bug, retried."""
