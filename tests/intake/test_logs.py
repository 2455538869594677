"""Logging cannot carry sealed content, numbers, receipts or addresses."""

from __future__ import annotations

import io
import json
import logging

import pytest

from intake.logs import SafeJsonFormatter, scrub

CANARY = "CANARY-7f3a9-sealed-narrative"
PHONE = "+254 712 345 678"
RECEIPT = "1234 5678 9012 3456"


@pytest.fixture
def captured() -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(SafeJsonFormatter())
    logger = logging.getLogger("intake.tests.logs")
    logger.handlers = [handler]
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    return logger, stream


def test_our_loggers_never_interpolate_arguments(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = captured
    logger.info("report received %s %s", CANARY, PHONE)
    line = json.loads(stream.getvalue())
    assert line["msg"] == "report received %s %s"
    assert CANARY not in stream.getvalue()


def test_unlisted_extra_fields_are_dropped(captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured
    logger.info(
        "event", extra={"narrative": CANARY, "case_ref": "C-ABC123", "reason": CANARY + " x"}
    )
    text = stream.getvalue()
    assert CANARY not in text
    assert json.loads(text)["case_ref"] == "C-ABC123"


def test_exception_messages_never_reach_the_log(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = captured
    try:
        raise ValueError(f"bad value {CANARY} from {PHONE}")
    except ValueError:
        logger.exception("failed")
    text = stream.getvalue()
    assert CANARY not in text
    assert "ValueError" in json.loads(text)["exc"]


def test_library_messages_are_scrubbed() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(SafeJsonFormatter())
    library = logging.getLogger("somelibrary.tests")
    library.handlers = [handler]
    library.propagate = False
    library.warning("client %s sent %s receipt %s", "203.0.113.9", PHONE, RECEIPT)
    text = stream.getvalue()
    for secret in ("203.0.113.9", "712 345", "5678 9012"):
        assert secret not in text


@pytest.mark.parametrize(
    "text",
    [
        "call +254712345678 now",
        "receipt 1234-5678-9012-3456",
        "from 10.0.0.1",
        "x@example.org",
        "addr 2001:db8::1",
    ],
)
def test_scrub_removes_identifying_values(text: str) -> None:
    assert scrub(text) != text
