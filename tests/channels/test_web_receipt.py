"""The receipt's one trip in a sealed cookie (channels/web_receipt.py, SPEC 14)."""

from __future__ import annotations

import base64
import logging
import re
import time

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from testkit.storage import database_bytes

from channels.web_receipt import (
    COOKIE,
    LIFETIME_S,
    RECEIPT_PATH,
    open_receipt,
    seal_receipt,
)
from crypto.secretbox import seal_draft, seal_for
from crypto.server_secret import ServerSecret
from intake.logs import SafeJsonFormatter

RECEIPT = re.compile(r"\b\d{4} \d{4} \d{4} \d{4}\b")
SECRET = ServerSecret(bytes(range(32)))
NOTHING = "There is nothing to show on this page."


def _csrf(text: str) -> str:
    match = re.search(r'name="csrf_token" value="([0-9a-f]+)"', text)
    assert match
    return match.group(1)


def _send(client: TestClient, narrative: str = "The guard took our ration cards.") -> str:
    """Posts a report without following the 303; returns the Set-Cookie of the answer."""
    body = {
        "csrf_token": _csrf(client.get("/report").text),
        "reporter_type": "anonymous",
        "country": "KE",
        "category": "fraud_corruption",
        "narrative": narrative,
    }
    answer = client.post("/report", data=body, follow_redirects=False)
    assert answer.status_code == 303
    (cookie,) = [c for c in answer.headers.get_list("set-cookie") if c.startswith(f"{COOKIE}=")]
    return cookie


def test_the_cookie_is_sealed_short_lived_httponly_strict_and_path_limited(
    app: FastAPI, client: TestClient
) -> None:
    cookie = _send(client)
    value, *attributes = [part.strip() for part in cookie.split(";")]
    flags = {part.lower() for part in attributes}
    assert {"httponly", "samesite=strict", "secure", f"path={RECEIPT_PATH}"} <= flags
    assert f"max-age={LIFETIME_S}" in flags
    assert LIFETIME_S <= 300
    sealed = value.split("=", 1)[1]
    blob = base64.urlsafe_b64decode(sealed + "=" * (-len(sealed) % 4))
    page = client.get(RECEIPT_PATH)
    (receipt,) = RECEIPT.findall(page.text)
    assert receipt.encode() not in blob
    assert receipt.replace(" ", "").encode() not in blob
    # Sealed, not merely encoded: it opens with this server's secret only.
    opened = open_receipt(app.state.context.secret, sealed, now=time.time())
    assert opened is not None
    assert opened.receipt == receipt
    assert open_receipt(SECRET, sealed, now=time.time()) is None
    assert receipt.replace(" ", "") not in sealed
    assert receipt not in cookie
    (deleted,) = [c for c in page.headers.get_list("set-cookie") if c.startswith(f"{COOKIE}=")]
    deleted_flags = {part.strip().lower() for part in deleted.split(";")}
    assert {"max-age=0", f"path={RECEIPT_PATH}"} <= deleted_flags


def test_the_cookie_goes_only_to_the_receipt_page(client: TestClient) -> None:
    _send(client)
    assert COOKIE in client.cookies
    assert COOKIE not in client.get("/report").request.headers.get("cookie", "")
    assert COOKIE in client.get(RECEIPT_PATH).request.headers["cookie"]


def test_a_replayed_value_is_refused_once_expired() -> None:
    now = time.time()
    sealed = seal_receipt(SECRET, "1234 5678 9012 3456", "ar", now=now)
    opened = open_receipt(SECRET, sealed, now=now + LIFETIME_S - 1)
    assert opened is not None
    assert (opened.receipt, opened.language) == ("1234 5678 9012 3456", "ar")
    assert "1234" not in repr(opened)
    assert open_receipt(SECRET, sealed, now=now + LIFETIME_S + 1) is None


@pytest.mark.parametrize(
    "forged",
    [
        "",
        "garbage",
        "%%%%",
        "A" * 2000,
        base64.urlsafe_b64encode(b"x" * 64).decode(),
        # The right box, another purpose's key (a draft) or another server's secret.
        base64.urlsafe_b64encode(seal_draft(SECRET, b'{"r":"1","l":"en","u":9e12}')).decode(),
        base64.urlsafe_b64encode(
            seal_for(ServerSecret(bytes(32)), "web-receipt", b'{"r":"1","l":"en","u":9e12}')
        ).decode(),
        base64.urlsafe_b64encode(seal_for(SECRET, "web-receipt", b"[1, 2]")).decode(),
    ],
    ids=["empty", "garbage", "not-base64", "long", "random", "draft-key", "other-secret", "shape"],
)
def test_forged_values_open_to_nothing(forged: str) -> None:
    assert open_receipt(SECRET, forged, now=time.time()) is None


def test_an_expired_or_forged_cookie_shows_the_neutral_page(
    app: FastAPI, client: TestClient
) -> None:
    secret = app.state.context.secret
    stale = seal_receipt(secret, "1111 2222 3333 4444", "en", now=time.time() - LIFETIME_S - 5)
    for value in (
        stale,
        "forged-value",
        seal_receipt(SECRET, "1111 2222 3333 4444", "en", now=time.time()),
    ):
        client.cookies.set(COOKIE, value, path=RECEIPT_PATH)
        page = client.get(RECEIPT_PATH)
        assert page.status_code == 200
        assert NOTHING in page.text
        assert "1111" not in page.text
        client.cookies.clear()


def _log_text(records: list[logging.LogRecord]) -> str:
    formatter = SafeJsonFormatter()
    return "\n".join(
        f"{formatter.format(record)}\n{record.getMessage()}\n{record.__dict__!r}"
        for record in records
    )


def test_canary_the_receipt_reaches_no_table_and_no_log(
    app: FastAPI, client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    cookie = _send(client, narrative="WEBRECEIPTCANARY narrative")
    page = client.get(RECEIPT_PATH)
    (receipt,) = RECEIPT.findall(page.text)
    sealed = cookie.split(";", 1)[0].split("=", 1)[1]
    stored = database_bytes(app.state.context)
    logs = _log_text(caplog.records)
    for needle in (receipt, receipt.replace(" ", ""), sealed, "WEBRECEIPTCANARY"):
        assert needle.encode() not in stored, needle[:4]
        assert needle not in logs, needle[:4]
    assert any(record.name == "intake.access" for record in caplog.records)
