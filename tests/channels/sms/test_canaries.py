"""Phone numbers, SMS bodies, Twilio's location fields and receipts reach no storage.

Canary values go through whole conversations (SMS and WhatsApp, named, with
consent, STATUS, a forged request, an unknown number); then every database
row, the SQLite file and its WAL, and every captured log record are searched.
"""

from __future__ import annotations

import logging

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from testkit.sms import (
    KE_NUMBER,
    PATH,
    Phone,
    new_sid,
    receipt_in,
    signature,
    twilio_params,
)
from testkit.storage import database_bytes

from intake.context import AppContext
from intake.logs import SafeJsonFormatter

PHONE = "+254799123456"
WHATSAPP = "whatsapp:+254788654321"
NAME = "Zawadi Canaryname"
ACCOUNT = ["CANARY-ACCOUNT-q8w3 alikuja usiku", "CANARY-مرحبا-ع7 🙂 second part"]
LOCATION = {
    "FromCity": "CANARYCITY",
    "FromState": "CANARYSTATE",
    # Not bare digits: a 5-digit canary can turn up by chance in stored timestamps.
    "FromZip": "CANARYZIP1",
    "FromCountry": "CANARYLAND",
    "ToCity": "CANARYTOCITY",
    "ToZip": "CANARYZIP2",
}
CANARIES = [
    "254799123456",
    "799123456",
    "254788654321",
    "788654321",
    "Canaryname",
    "CANARY-ACCOUNT-q8w3",
    "CANARY-مرحبا-ع7",
    "FORGED-CANARY",
    "UNKNOWN-NUMBER-CANARY",
    *LOCATION.values(),
]


def _log_text(records: list[logging.LogRecord]) -> str:
    formatter = SafeJsonFormatter()
    lines = []
    for record in records:
        lines.append(formatter.format(record))
        lines.append(record.getMessage())
        lines.append(repr(record.__dict__))
    return "\n".join(lines)


def _assert_absent(haystack: str | bytes, needles: list[str], where: str) -> None:
    for needle in needles:
        encoded: str | bytes = needle.encode() if isinstance(haystack, bytes) else needle
        assert encoded not in haystack, f"{where} holds a canary"


def _converse(client: TestClient) -> list[str]:
    """Two full reports with every sensitive field, then look-ups; returns the receipts."""
    receipts = []
    for number in (PHONE, WHATSAPP):
        phone = Phone(
            client, number=number, to=("whatsapp:" if "whatsapp" in number else "") + KE_NUMBER
        )
        for body in ["Hello", "2", "1", "3", "2", NAME, "1", *ACCOUNT, "DONE"]:
            phone.say(body, extra=LOCATION)
        receipts.append(receipt_in(phone.say("1", extra=LOCATION)))
        phone.say(f"STATUS {receipts[-1]}", extra=LOCATION)
        phone.say(f"STATUS {receipts[-1].replace(' ', '')}", extra=LOCATION)
    return receipts


def _unwelcome(client: TestClient) -> None:
    forged = twilio_params(PHONE, KE_NUMBER, "FORGED-CANARY", new_sid())
    headers = {"X-Twilio-Signature": signature({**forged, "Body": "other"})}
    assert client.post(PATH, data=forged, headers=headers).status_code == 403
    Phone(client, number=PHONE, to="+19995550100").say("UNKNOWN-NUMBER-CANARY", extra=LOCATION)


def test_no_number_body_location_or_receipt_reaches_the_database_or_logs(
    app: FastAPI, client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    context: AppContext = app.state.context
    middle = Phone(client, number=PHONE, to=KE_NUMBER)
    for body in ["Hello", "2", "1", "3", "2", NAME, "1", *ACCOUNT]:
        middle.say(body, extra=LOCATION)
    _assert_absent(database_bytes(context), CANARIES, "the database mid-conversation")
    middle.say("STOP")
    receipts = _converse(client)
    _unwelcome(client)
    secrets_ = [*CANARIES, *receipts, *(receipt.replace(" ", "") for receipt in receipts)]
    _assert_absent(database_bytes(context), secrets_, "the database")
    _assert_absent(_log_text(caplog.records), secrets_, "the logs")
    assert any(record.name == "channels.sms" for record in caplog.records)
