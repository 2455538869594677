"""Messages from a focal point to the reporter.

Stored twice, both sealed: to the receipt key (the reporter opens it at
follow-up with the key derived from the receipt) and as an envelope to the
case's recipients and escrow (the staff copy). For an SMS case whose reporter
consented to contact, an `sms_reply` outbox entry carries the number and the
text sealed with the server's draft key: the server must send that SMS, so it
must be able to read it back, but a database copy alone cannot.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy.orm import Session

from crypto.envelope import b64e, case_aad, seal
from crypto.receipt import seal_to_public_key
from intake import audit
from intake.cases.schemas import MessageIn, MessageOut, rfc3339
from intake.cases.service import case_public_keys, find_visible
from intake.context import AppContext
from intake.drafts import seal_draft
from intake.models import Case, CaseMessage
from intake.outbox import enqueue
from intake.staff.deps import CaseAccess

SMS_REPLY = "sms_reply"


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
    queued = _queue_sms(context, case, message.text, stored.id, session=session)
    case.updated_at = now
    audit.append(
        session,
        actor=access.staff.username,
        action="case.message",
        case_ref=case.case_ref,
        detail={"message_id": stored.id, "sms": queued},
    )
    return MessageOut(case_ref=case.case_ref, at=rfc3339(now), sms_queued=queued)


def _queue_sms(
    context: AppContext, case: Case, text: str, message_id: int, *, session: Session
) -> bool:
    if not (case.channel == "sms" and case.consent_contact_me and case.sms_reply_sealed):
        return False
    enqueue(
        session,
        SMS_REPLY,
        {
            "to_sealed": b64e(case.sms_reply_sealed),
            "body_sealed": b64e(seal_draft(context.secret, text.encode("utf-8"))),
        },
        dedupe_key=f"{SMS_REPLY}:{message_id}",
    )
    return True
