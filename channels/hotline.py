"""The hotline channel: an operator's (or a transcript's) call -> `Submission`.

A call adds clear metadata (when it started, how long it lasted) and, when
given, the caller's number, which is sealed with the report and never stored
in clear. The adapter only translates; the pipeline stores.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC
from typing import Any

from pydantic import AwareDatetime, Field, StrictInt, field_validator
from sqlalchemy.orm import Session

from intake.models import Case
from intake.pipeline import CallInfo, Submission
from intake.schemas import ReportIn, Schema

CHANNEL = "hotline"
CALLER_NUMBER_MAX = 64
# A call longer than a day is a typing error, and the column is a 32-bit integer.
DURATION_MAX_S = 86_400

ExtraRows = Callable[[Session, Case], None]


class CallIn(Schema):
    """The call's metadata; `caller_number` is sealed, the rest is clear."""

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
    extra_rows: ExtraRows | None = None,
) -> Submission:
    """The pipeline's view of one call; `actor` is the operator's username or "import"."""
    call = report.call
    caller_number = call.caller_number if call is not None else None
    return Submission(
        report=report,
        channel=CHANNEL,
        language=language,
        actor=actor,
        call=CallInfo(started_at=call.started_at, duration_s=call.duration_s) if call else None,
        sealed_extra={"caller_number": caller_number},
        extra_rows=extra_rows,
    )
