"""What `POST /api/v1/followup` takes and answers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import Field, PlainSerializer

from intake.followup.service import FollowupView
from intake.reports.schemas import Schema


def rfc3339(moment: datetime) -> str:
    """SPEC section 9: RFC 3339 in UTC ending in `Z`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


Timestamp = Annotated[datetime, PlainSerializer(rfc3339, return_type=str)]


class FollowupIn(Schema):
    # Anything longer is not a receipt; the bound keeps the work per request small.
    receipt: str = Field(max_length=200)


class ReplyIn(Schema):
    # Bounds only against huge bodies; the 1 to 5,000 rule is checked by the service,
    # so the answer names the field in the reporter's words.
    receipt: str = Field(max_length=200)
    text: str = Field(max_length=20_000)


class ReplyOut(Schema):
    at: Timestamp


class MessageOut(Schema):
    at: Timestamp
    text: str


class FollowupOut(Schema):
    case_ref: str
    status: str
    updated_at: Timestamp
    messages: list[MessageOut]

    @classmethod
    def of(cls, view: FollowupView) -> FollowupOut:
        return cls(
            case_ref=view.case_ref,
            status=view.status,
            updated_at=view.updated_at,
            messages=[MessageOut(at=message.at, text=message.text) for message in view.messages],
        )
