"""The hotline adapter: a call (operator API, console or transcript) -> Submission."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError
from testkit.cases import report

from channels.hotline.schemas import CHANNEL, CallIn, HotlineReportIn, to_submission
from intake.reports.submission import Accepted

CALLER = "+252 61 555 0101"
NARRATIVE = "The camp leader took money from families to add them to the list."


def _report(**call: Any) -> HotlineReportIn:
    body = report(narrative=NARRATIVE, reporter_type="named", reporter={"name": "Hodan"})
    return HotlineReportIn.model_validate({**body, "call": call} if call else body)


def test_the_caller_number_and_the_call_times_are_sealed() -> None:
    hotline = _report(started_at="2026-11-23T12:00:00+03:00", duration_s=95, caller_number=CALLER)
    submission = to_submission(hotline, language="so", actor="op-1")
    assert submission.channel == CHANNEL == "hotline"
    assert submission.actor == "op-1"
    assert submission.language == "so"
    assert submission.sealed_extra == {
        "caller_number": CALLER,
        "call": {"started_at": "2026-11-23T09:00:00Z", "duration_s": 95},
    }
    assert submission.source is None  # staff entries are not rate-limited per source
    assert submission.report.sealed_content()["narrative"] == NARRATIVE


def test_without_call_metadata_the_number_is_null_and_no_call_info() -> None:
    submission = to_submission(_report(), language="en", actor="import")
    assert submission.sealed_extra == {"caller_number": None}


def test_the_on_stored_hook_is_handed_to_the_reports_service() -> None:
    def stored(_session: Any, _accepted: Accepted) -> None:
        return None

    submission = to_submission(_report(), language="en", actor="import", on_stored=stored)
    assert submission.on_stored is stored


@pytest.mark.parametrize(
    ("call", "code"),
    [
        ({"started_at": "2026-11-23T12:00:00"}, "timezone_aware"),
        ({"duration_s": -1}, "greater_than_equal"),
        ({"duration_s": 86_401}, "less_than_equal"),
        ({"duration_s": 1.5}, "int_type"),
        ({"duration_s": True}, "int_type"),
        ({"caller_number": "1" * 65}, "string_too_long"),
        ({"caller_number": "12\x0034"}, "nul_character"),
        ({"note": "x"}, "extra_forbidden"),
    ],
)
def test_call_rules(call: dict[str, Any], code: str) -> None:
    with pytest.raises(ValidationError) as raised:
        _report(**call)
    assert code in [error["type"] for error in raised.value.errors()]


def test_repr_and_str_never_show_sealed_values() -> None:
    hotline = _report(duration_s=30, caller_number=CALLER)
    submission = to_submission(hotline, language="so", actor="op-1")
    texts = (repr(hotline), str(hotline), repr(hotline.call), str(hotline.call), repr(submission))
    for text in texts:
        assert CALLER not in text
        assert NARRATIVE not in text
        assert "Hodan" not in text
    assert "duration_s=30" in repr(hotline.call)
    assert "country='KE'" in repr(hotline)


def test_call_in_accepts_an_rfc3339_z_time() -> None:
    call = CallIn.model_validate({"started_at": "2026-11-23T09:00:00Z", "duration_s": 0})
    assert call.started_at == datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert call.duration_s == 0
