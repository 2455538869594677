"""Messages from a focal point to the reporter.

Stored twice, both sealed: to the receipt key (the reporter opens it at
follow-up with the key derived from the receipt) and as an envelope to the
case's recipients and escrow (the staff copy). Every installed channel is then
offered the text (`ChannelHooks.on_focal_point_message`): the SMS channel
queues it as an SMS when the report came by SMS and the reporter consented.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from crypto.envelope import case_aad, kid_of, seal, validate_envelope_shape
from crypto.errors import CryptoError
from crypto.receipt import seal_to_public_key
from intake.audit import trail as audit
from intake.cases.schemas import MessageIn, MessageOut, rfc3339
from intake.cases.service import case_public_keys, find_visible, refuse_if_shredded
from intake.context import AppContext
from intake.errors import InvalidInput
from intake.models import Case, CaseMessage
from intake.staff.deps import CaseAccess

_BAD_ENVELOPE = "sealed.envelope is not a valid version 1 envelope."
_NOT_ALL_KEYS = "sealed.envelope must be sealed to every key in the case's recipient_keys."


def send_message(
    session: Session,
    context: AppContext,
    access: CaseAccess,
    case_ref: str,
    message: MessageIn,
    *,
    now: datetime,
) -> MessageOut:
    case = find_visible(session, access, case_ref, lock=True)
    refuse_if_shredded(case)
    keys = case_public_keys(context, session, case)
    if message.sealed is not None:
        _check_sealed_to(message.sealed.envelope, keys)
        for_reporter, envelope = message.sealed.to_reporter, message.sealed.envelope
    else:
        assert message.text is not None  # noqa: S101 - MessageIn requires one of them
        for_reporter = seal_to_public_key(message.text, case.receipt_public_key)
        envelope = seal({"text": message.text}, public_keys=keys, aad=case_aad(case.case_ref))
    stored = CaseMessage(
        case_id=case.id,
        at=now,
        author=access.staff.username,
        sealed_for_reporter=for_reporter,
        envelope=json.dumps(envelope, separators=(",", ":")),
    )
    session.add(stored)
    session.flush()
    queued = message.text is not None and _deliver_over_channels(
        session, context, case, message.text, stored.id
    )
    case.updated_at = now
    audit.append(
        session,
        actor=access.staff.username,
        action="case.message",
        case_ref=case.case_ref,
        detail={"message_id": stored.id, "sms": queued},
    )
    return MessageOut(case_ref=case.case_ref, at=rfc3339(now), sms_queued=queued)


def _check_sealed_to(envelope: dict[str, Any], keys: list[bytes]) -> None:
    """A page-sealed staff copy must be a v1 envelope that every recipient and escrow
    key can open (the server cannot check the content, only who it is sealed to)."""
    try:
        validate_envelope_shape(envelope)
    except CryptoError:
        raise InvalidInput(_BAD_ENVELOPE) from None
    sealed_to = {entry["kid"] for entry in envelope["recipients"]}
    if not {kid_of(key) for key in keys} <= sealed_to:
        raise InvalidInput(_NOT_ALL_KEYS)


def _deliver_over_channels(
    session: Session, context: AppContext, case: Case, text: str, message_id: int
) -> bool:
    """Offer the message to every installed channel (the SMS one sends it by SMS)."""
    queued = False
    for channel in context.channels:
        queued |= channel.on_focal_point_message(
            session, context, case, text=text, message_id=message_id
        )
    return queued
