"""What a channel hands the reports service, and what it gets back.

The channel contract (`channels/base.py`) is stated in terms of these two
types; the core knows nothing else about a channel.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from intake.reports.prepared import Presealed
from intake.reports.schemas import ClearFieldsIn
from intake.vocab import Channel


@dataclass(frozen=True, repr=False)
class Accepted:
    """A stored report; `receipt` is grouped "1234 5678 9012 3456", never logged or stored."""

    case_ref: str
    receipt: str
    status: str
    due_at: datetime
    case_id: int


OnStored = Callable[[Session, Accepted], None]


@dataclass(frozen=True, repr=False)
class Submission:
    """A validated report and what its channel adds.

    `sealed_extra`: channel values sealed with the report (a caller's or SMS
    sender's number, a call's times), never stored in clear.
    `source`: the keyed hash that counts against INTAKE_REPORT_LIMIT (None:
    not limited per source, e.g. staff).
    `on_stored(session, accepted)`: the channel's own rows, written last in
    the case's transaction, so both commit or neither does (a hotline call id,
    the SMS reply holding the receipt).
    `presealed`: the envelope a reporter's browser sealed (SPEC 11) with its
    verified prepared token; then `report` holds only the clear fields and the
    server never sees the content.
    """

    report: ClearFieldsIn
    channel: Channel
    language: str
    actor: str = "public"
    sealed_extra: Mapping[str, object] = field(default_factory=dict)
    source: bytes | None = None
    on_stored: OnStored | None = None
    presealed: Presealed | None = None

    def __repr__(self) -> str:
        # The report and `sealed_extra` (phone numbers) must never reach a repr.
        return f"Submission(channel={self.channel!r}, language={self.language!r})"
