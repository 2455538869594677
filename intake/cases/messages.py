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

from sqlalchemy.orm import Session

from crypto.envelope import case_aad, seal
from crypto.receipt import seal_to_public_key
from intake.audit import trail as audit
from intake.cases.schemas import MessageIn, MessageOut, rfc3339
from intake.cases.service import case_public_keys, find_visible
from intake.context import AppContext
from intake.models import Case, CaseMessage
from intake.staff.deps import CaseAccess


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
    envelope = seal(
        {"text": message.text},
        public_keys=case_public_keys(context, session, case),
        aad=case_aad(case.case_ref),
    )
    stored = CaseMessage(
        case_id=case.id,
        at=now,
        author=access.staff.username,
        sealed_for_reporter=seal_to_public_key(message.text, case.receipt_public_key),
        envelope=json.dumps(envelope, separators=(",", ":")),
    )
    session.add(stored)
    session.flush()
    queued = _deliver_over_channels(session, context, case, message.text, stored.id)
    case.updated_at = now
    audit.append(
        session,
        actor=access.staff.username,
        action="case.message",
        case_ref=case.case_ref,
        detail={"message_id": stored.id, "sms": queued},
    )
    return MessageOut(case_ref=case.case_ref, at=rfc3339(now), sms_queued=queued)


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
