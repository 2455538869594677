"""What the case endpoints take and answer (no sealed column can reach these)."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Any

from pydantic import Field, StrictBool, field_validator, model_validator
from pydantic_core import PydanticCustomError

from intake.models import Case
from intake.reports.schemas import Schema
from intake.vocab import AUDIO, AttachmentStatus, EventType, Outcome, ReferralTarget, Status

MESSAGE_MAX = 5_000
SEALED_BOX_OVERHEAD = 48  # crypto_box_SEALBYTES
# base64 of a sealed 5,000-character message of 4-byte characters, with room to spare
SEALED_MESSAGE_MAX = 4 * (MESSAGE_MAX * 4 + SEALED_BOX_OVERHEAD) // 3 + 8
OVERRIDE_REASON_MAX = 1_000


def rfc3339(at: datetime) -> str:
    """RFC 3339 in UTC ending in `Z` (SPEC section 9)."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class CaseOut(Schema):
    """CaseSummary (SPEC section 4)."""

    case_ref: str
    received_at: str
    channel: str
    reporter_type: str
    country: str
    category: str
    affiliation: str
    victim_is_child: bool | None
    status: Status
    due_at: str
    overdue: bool
    recipients: list[str]
    # The spoken account's audio (voice cases, SPEC 17); null when the case has none.
    audio: AttachmentStatus | None = None
    # Retention (SPEC 12): when the content was destroyed; null while it is kept.
    shredded_at: str | None = None

    @classmethod
    def of(cls, case: Case, *, now: datetime) -> CaseOut:
        return cls(**summary_fields(case, now=now))


def summary_fields(case: Case, *, now: datetime) -> dict[str, Any]:
    return {
        "case_ref": case.case_ref,
        "received_at": rfc3339(case.received_at),
        "channel": case.channel,
        "reporter_type": case.reporter_type,
        "country": case.country,
        "category": case.category,
        "affiliation": case.affiliation,
        "victim_is_child": case.victim_is_child,
        "status": case.status,
        "due_at": rfc3339(case.due_at),
        "overdue": case.status == "routed" and now > case.due_at,
        "recipients": [r.focal_point_id for r in case.recipients if r.active],
        "audio": next((a.status for a in case.attachments if a.kind == AUDIO), None),
        "shredded_at": rfc3339(case.shredded_at) if case.shredded_at is not None else None,
    }


class RoutingOut(Schema):
    rule: str
    table_version: str


class AttachmentRef(Schema):
    id: int
    kind: str
    status: AttachmentStatus


class RecipientKeyOut(Schema):
    focal_point: str  # a focal point id, or "escrow"
    kid: str
    public_key: str


class ConsentOut(Schema):
    contact_me: bool
    share_with_investigators: bool
    refer_to_services: bool


class EventOut(Schema):
    """A lifecycle step; `override_reason_sealed` is an envelope like a message's."""

    type: str
    at: str
    by: str | None
    to: str | None = None
    outcome: str | None = None
    override: bool | None = None
    override_reason_sealed: dict[str, Any] | None = None


class CaseMessageOut(Schema):
    id: int
    at: str
    from_: str = Field(serialization_alias="from")
    envelope: dict[str, Any]


class ShreddedCaseDetail(CaseOut):
    """The detail of a case whose content retention destroyed (SPEC 12): no envelope, no
    messages; `CaseDetail` is this plus both."""

    routing: RoutingOut
    receipt_public_key: str
    recipient_keys: list[RecipientKeyOut]
    consent: ConsentOut
    events: list[EventOut]
    attachments: list[AttachmentRef] = []


class CaseDetail(ShreddedCaseDetail):
    envelope: dict[str, Any]
    messages: list[CaseMessageOut]


class AttachmentOut(Schema):
    """An attachment's envelope (SPEC 17): open it like the case's, AAD `intake:v1:` + case_ref."""

    id: int
    case_ref: str
    kind: str
    status: AttachmentStatus
    envelope: dict[str, Any]


class CaseList(Schema):
    items: list[CaseOut]
    next: str | None


class EventIn(Schema):
    type: EventType
    to: ReferralTarget | None = None
    outcome: Outcome | None = None
    # Free text; sealed to the case's recipients, never stored in clear.
    override_reason: str | None = Field(default=None, max_length=OVERRIDE_REASON_MAX)

    @model_validator(mode="after")
    def _fields_of_type(self) -> EventIn:
        if (self.type == "referred") != (self.to is not None):
            raise PydanticCustomError(
                "referral_target", "'to' is required with 'referred' and only there."
            )
        if (self.type == "closed") != (self.outcome is not None):
            raise PydanticCustomError(
                "outcome_required", "'outcome' is required with 'closed' and only there."
            )
        if self.override_reason is not None and not (
            self.to == "assistance" and self.override_reason.strip()
        ):
            raise PydanticCustomError(
                "override_reason",
                "'override_reason' is non-blank text, only with a referral for assistance.",
            )
        return self


class SealedMessageIn(Schema):
    """A message sealed in the focal point's page (SPEC section 10)."""

    # base64 of crypto_box_seal of the UTF-8 text to the case's receipt public key
    to_reporter: str = Field(min_length=1, max_length=SEALED_MESSAGE_MAX)
    # envelope v1 of {"text": ...} to the case's recipients and escrow
    envelope: dict[str, Any]

    @field_validator("to_reporter")
    @classmethod
    def _sealed_box(cls, value: str) -> str:
        try:
            raw = base64.b64decode(value, validate=True)
        except binascii.Error:
            raise PydanticCustomError("sealed_message", "to_reporter is not base64.") from None
        if len(raw) <= SEALED_BOX_OVERHEAD or base64.b64encode(raw).decode() != value:
            raise PydanticCustomError("sealed_message", "to_reporter is not a sealed box.")
        return value


class MessageIn(Schema):
    """`text` (sealed by the server), `sealed` (sealed in the page), or both: then the
    text only goes to the channels (an SMS needs the server to read it)."""

    text: str | None = None
    sealed: SealedMessageIn | None = None

    @field_validator("text")
    @classmethod
    def _text(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.strip():
            raise PydanticCustomError("message_required", "The message is empty.")
        if len(value) > MESSAGE_MAX:
            raise PydanticCustomError("message_too_long", "The message is over 5,000 characters.")
        return value  # kept exactly as written

    @model_validator(mode="after")
    def _text_or_sealed(self) -> MessageIn:
        if self.text is None and self.sealed is None:
            raise PydanticCustomError("message_required", "Send 'text', 'sealed' or both.")
        return self


class MessageOut(Schema):
    case_ref: str
    at: str
    sms_queued: bool


class SealedKeyIn(Schema):
    kid: str = Field(min_length=1, max_length=64)
    sealed_key: str = Field(min_length=1, max_length=256)


# A focal point in the middle of a key rotation lists a few keys, never many.
MAX_GRANT_KEYS = 16


class RecipientIn(Schema):
    """One entry per key of the new focal point (`sealed_keys`), or `sealed_key` for
    a focal point with one key: a grant must open with every key it currently holds."""

    focal_point: str = Field(min_length=1, max_length=128)
    sealed_key: SealedKeyIn | None = None
    sealed_keys: list[SealedKeyIn] = Field(default=[], max_length=MAX_GRANT_KEYS)
    handover: StrictBool = False

    @model_validator(mode="after")
    def _one_form(self) -> RecipientIn:
        if (self.sealed_key is None) == (not self.sealed_keys):
            raise PydanticCustomError("sealed_keys", "Give either sealed_key or sealed_keys.")
        if len({entry.kid for entry in self.entries}) != len(self.entries):
            raise PydanticCustomError("sealed_keys", "Each kid may appear once.")
        return self

    @property
    def entries(self) -> list[SealedKeyIn]:
        return [self.sealed_key] if self.sealed_key is not None else list(self.sealed_keys)
