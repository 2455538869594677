"""One case as its recipient sees it: summary, envelope, keys, events, messages.

Everything a focal point's page needs to open the case on its own device and
to seal to the same people again: the receipt public key (messages to the
reporter), the active keys of the recipients and escrow, and every message's
staff copy (an envelope under the case's AAD). Nothing here is in clear that
is not already in clear in the database.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto.envelope import kid_of
from intake.cases.schemas import (
    AttachmentRef,
    CaseDetail,
    CaseMessageOut,
    ConsentOut,
    EventOut,
    RecipientKeyOut,
    RoutingOut,
    ShreddedCaseDetail,
    rfc3339,
    summary_fields,
)
from intake.cases.service import case_recipient_keys, read_case
from intake.context import AppContext
from intake.models import Case, CaseEvent, CaseMessage
from intake.staff.deps import CaseAccess

_EVENT_FIELDS = ("to", "outcome", "override", "override_reason_sealed")


def case_detail(
    session: Session, context: AppContext, access: CaseAccess, case_ref: str, *, now: datetime
) -> CaseDetail | ShreddedCaseDetail:
    case = read_case(session, access, case_ref, now=now)
    case.reply_unseen = False  # a recipient opened it: the inbox no longer marks it new
    keys = [
        RecipientKeyOut(focal_point=owner, kid=kid_of(key), public_key=_b64(key))
        for owner, key in case_recipient_keys(context, session, case)
    ]
    facts = ShreddedCaseDetail(
        **summary_fields(case, now=now),
        routing=RoutingOut(rule=case.rule_id, table_version=case.table_version),
        receipt_public_key=_b64(case.receipt_public_key),
        recipient_keys=keys,
        consent=ConsentOut(
            contact_me=case.consent_contact_me,
            share_with_investigators=case.consent_share_with_investigators,
            refer_to_services=case.consent_refer_to_services,
        ),
        events=_events(session, case),
        attachments=[
            AttachmentRef(id=item.id, kind=item.kind, status=item.status)
            for item in case.attachments
        ],
    )
    if case.shredded_at is not None:  # retention (SPEC 12): no envelope, no messages
        return facts
    return CaseDetail(
        **dict(facts), envelope=json.loads(case.envelope), messages=_messages(session, case)
    )


def _events(session: Session, case: Case) -> list[EventOut]:
    rows = session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.at, CaseEvent.id)
    )
    return [_event(row) for row in rows]


def _event(row: CaseEvent) -> EventOut:
    detail: dict[str, Any] = json.loads(row.detail) if row.detail else {}
    fields = {name: detail[name] for name in _EVENT_FIELDS if name in detail}
    return EventOut(type=row.type, at=rfc3339(row.at), by=row.actor, **fields)


def _messages(session: Session, case: Case) -> list[CaseMessageOut]:
    rows = session.scalars(
        select(CaseMessage)
        .where(CaseMessage.case_id == case.id)
        .order_by(CaseMessage.at, CaseMessage.id)
    )
    return [
        CaseMessageOut(
            id=row.id, at=rfc3339(row.at), from_=row.sender, envelope=json.loads(row.envelope)
        )
        for row in rows
    ]


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")
