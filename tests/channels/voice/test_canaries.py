"""The caller's number, the CallSid, the RecordingSid, Twilio's location fields and the
receipt reach no store: every database row (outbox included), the SQLite files, the logs."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient
from testkit.fake_twilio import FakeTwilio
from testkit.storage import database_bytes
from testkit.voice import EN_VOICE, Call, spoken_receipt, tiny_wav

from intake.context import AppContext
from intake.logs import SafeJsonFormatter

from .calls import recording_worker

CALLER = "+254799777333"
CALL_SID = "CA" + "c0ffee" * 5 + "ab"
RECORDING_SID = "RE" + "feed42" * 5 + "cd"
LOCATION = {
    "CallerCity": "CANARYCITY",
    "CallerState": "CANARYSTATE",
    "CallerZip": "CANARYZIP1",
    "CallerCountry": "CANARYLAND",
    "FromCity": "CANARYCITY",
    "FromState": "CANARYSTATE",
    "FromZip": "CANARYZIP1",
    "FromCountry": "CANARYLAND",
}
CANARIES = [
    "254799777333",
    "799777333",
    CALL_SID,
    CALL_SID[2:],
    RECORDING_SID,
    RECORDING_SID[2:],
    *LOCATION.values(),
]


def _log_text(records: list[logging.LogRecord]) -> str:
    formatter = SafeJsonFormatter()
    return "\n".join(
        f"{formatter.format(record)}\n{record.getMessage()}\n{record.__dict__!r}"
        for record in records
    )


def _assert_absent(haystack: str | bytes, needles: list[str], where: str) -> None:
    for needle in needles:
        encoded: str | bytes = needle.encode() if isinstance(haystack, bytes) else needle
        assert encoded not in haystack, f"{where} holds a canary"


def _call(client: TestClient, fake: FakeTwilio) -> str:
    call = Call(client, to=EN_VOICE, caller=CALLER, call_sid=CALL_SID)
    call.start()
    call.press("1")
    fake.add_recording(RECORDING_SID, tiny_wav(), call_sid=CALL_SID)
    answer = call.record(RECORDING_SID)
    digits = spoken_receipt(answer)
    return digits[:16]


def test_no_number_sid_location_or_receipt_reaches_any_store(
    client: TestClient,
    context: AppContext,
    fake_twilio: FakeTwilio,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.DEBUG)
    original = Call.post

    def with_location(self: Call, url: str, extra: dict[str, str] | None = None) -> object:
        return original(self, url, {**LOCATION, **(extra or {})})

    monkeypatch.setattr(Call, "post", with_location)
    receipt = _call(client, fake_twilio)
    assert len(receipt) == 16
    secrets_ = [*CANARIES, receipt, " ".join(receipt[i : i + 4] for i in range(0, 16, 4))]
    _assert_absent(database_bytes(context), secrets_, "the database before the worker")
    status = Call(client, to=EN_VOICE, caller=CALLER, call_sid="CA" + "d" * 32)
    status.start()
    status.press("9")
    assert "sent to the people" in status.press(receipt + "#").said
    assert recording_worker(context).run_once().sent == 1
    assert fake_twilio.deleted_calls == [CALL_SID]
    _assert_absent(database_bytes(context), secrets_, "the database")
    _assert_absent(_log_text(caplog.records), secrets_, "the logs")
    assert any(record.name == "channels.voice" for record in caplog.records)
