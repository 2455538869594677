"""The web receipt's one trip from `POST /report` to the receipt page (SPEC 14).

A successful report answers 303 to `RECEIPT_PATH`; the receipt travels there in
a short-lived cookie sealed with a sub-key of the server secret (never a URL,
never the database, never a log). The cookie is HttpOnly, SameSite=Strict and
sent only to the receipt page, which deletes it in the same answer that shows
the digits: a reload, Back or Forward then finds nothing, and the POST that
filed the report is not in the history to be sent again.

A reply sent at /followup takes the same trip, to `REPLY_SENT_PATH`, with its own
purpose (a cookie sealed for one page never opens on the other).
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from dataclasses import dataclass

from fastapi import Request, Response

from crypto.secretbox import DraftError, open_for, seal_for
from crypto.server_secret import ServerSecret

RECEIPT_PATH = "/report/received"
REPLY_SENT_PATH = "/followup/sent"
# A neutral name: a cookie list on a shared phone should not say "receipt".
COOKIE = "once"
PURPOSE = "web-receipt"
REPLY_PURPOSE = "web-reply"
# Long enough for a slow phone to follow the redirect, short enough that a
# cookie lost in a jar is useless soon after.
LIFETIME_S = 120
_MAX_COOKIE_CHARS = 512


@dataclass(frozen=True, repr=False)
class CarriedReceipt:
    receipt: str
    language: str

    def __repr__(self) -> str:
        return "CarriedReceipt(<hidden>)"


def seal_receipt(
    secret: ServerSecret, receipt: str, language: str, *, now: float, purpose: str = PURPOSE
) -> str:
    """The cookie value: receipt, language and expiry, sealed and URL-safe."""
    body = {"r": receipt, "l": language, "u": int(now) + LIFETIME_S}
    sealed = seal_for(secret, purpose, json.dumps(body).encode("utf-8"))
    return base64.urlsafe_b64encode(sealed).decode("ascii").rstrip("=")


def open_receipt(
    secret: ServerSecret, value: str | None, *, now: float, purpose: str = PURPOSE
) -> CarriedReceipt | None:
    """What the cookie carries while it is fresh; None when absent, forged or expired."""
    if not value or len(value) > _MAX_COOKIE_CHARS:
        return None
    try:
        blob = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        body = json.loads(open_for(secret, purpose, blob))
        receipt, language, until = str(body["r"]), str(body["l"]), int(body["u"])
    except (binascii.Error, DraftError, ValueError, KeyError, TypeError):
        return None
    if now > until:
        return None
    return CarriedReceipt(receipt=receipt, language=language)


def carry(response: Response, request: Request, value: str, *, path: str = RECEIPT_PATH) -> None:
    """Set the cookie on the 303 answer, sent back only to the page at `path`."""
    response.set_cookie(
        COOKIE,
        value,
        max_age=LIFETIME_S,
        path=path,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def take(
    request: Request, secret: ServerSecret, *, purpose: str = PURPOSE
) -> CarriedReceipt | None:
    return open_receipt(secret, request.cookies.get(COOKIE), now=time.time(), purpose=purpose)


def forget(response: Response, request: Request, *, path: str = RECEIPT_PATH) -> None:
    """Delete the cookie (whatever it held) in the answer that shows the page."""
    response.delete_cookie(
        COOKIE,
        path=path,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
