"""The hotline channel: an operator's (or a transcript's) call -> `Submission`.

A call adds when it started, how long it lasted and, when given, the
caller's number: all sealed with the report, never stored in clear (SPEC 15:
call times could link a report to a telephone company's records). The
adapter only translates; the reports service stores.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC
from typing import Any

from pydantic import AwareDatetime, Field, StrictInt, field_validator

from intake.reports.schemas import ReportIn, Schema
from intake.reports.submission import OnStored, Submission
from intake.vocab import Channel

CHANNEL: Channel = "hotline"
CALLER_NUMBER_MAX = 64
# A call longer than a day is a typing error.
DURATION_MAX_S = 86_400


class CallIn(Schema):
    """The call's metadata, all of it sealed with the report."""

    started_at: AwareDatetime | None = None
    duration_s: StrictInt | None = Field(default=None, ge=0, le=DURATION_MAX_S)
    caller_number: str | None = Field(default=None, max_length=CALLER_NUMBER_MAX)

    @field_validator("started_at")
    @classmethod
    def _utc(cls, value: AwareDatetime | None) -> AwareDatetime | None:
        return value.astimezone(UTC) if value is not None else None

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        # repr() and str() leave out the caller's number (logs, tracebacks).
        yield "started_at", self.started_at
        yield "duration_s", self.duration_s


class HotlineReportIn(ReportIn):
    """`ReportIn` plus the optional `call` (SPEC section 4, operator API)."""

    call: CallIn | None = None

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        # Only clear fields: the report's sealed ones never reach repr() or str().
        for name in ("reporter_type", "language", "country", "category", "affiliation"):
            yield name, getattr(self, name)
        yield "call", self.call


def to_submission(
    report: HotlineReportIn,
    *,
    language: str,
    actor: str,
    on_stored: OnStored | None = None,
) -> Submission:
    """The pipeline's view of one call; `actor` is the operator's username or "import"."""
    call = report.call
    return Submission(
        report=report,
        channel=CHANNEL,
        language=language,
        actor=actor,
        sealed_extra=_sealed_call(call),
        on_stored=on_stored,
    )


def _sealed_call(call: CallIn | None) -> dict[str, object]:
    if call is None:
        return {"caller_number": None}
    started = call.started_at.strftime("%Y-%m-%dT%H:%M:%SZ") if call.started_at else None
    return {
        "caller_number": call.caller_number,
        "call": {"started_at": started, "duration_s": call.duration_s},
    }
