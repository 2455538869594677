"""Case lifecycle events: routed -> acknowledged -> referred -> investigating -> closed.

A step may be skipped forward, never repeated or taken backward (409). Any
step past `routed` stops the overdue clock: the first one sets
`acknowledged_at` even when `acknowledged` itself was skipped, because a
focal point who refers a case has plainly seen it.

A referral for assistance passes the survivor's details on, so it needs the
reporter's `refer_to_services` consent or an override with a reason. The
reason is free text a focal point writes about the case, so it is sealed to
the case's recipients like a message; the clear record says only that an
override happened.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy.orm import Session

from crypto.envelope import case_aad, seal
from intake.audit import trail as audit
from intake.cases.schemas import CaseOut, EventIn
from intake.cases.service import case_public_keys, find_visible
from intake.context import AppContext
from intake.errors import Conflict
from intake.models import Case, CaseEvent
from intake.staff.deps import CaseAccess
from intake.vocab import STATUSES

_ORDER: dict[str, int] = {status: position for position, status in enumerate(STATUSES)}
_OUT_OF_ORDER = (
    "Case events go routed, acknowledged, referred, investigating, closed; "
    "a step may be skipped but never repeated or taken backward."
)
_NO_CONSENT = (
    "A referral for assistance needs the reporter's consent to referral to services, "
    "or an override_reason."
)


def record_event(
    session: Session,
    context: AppContext,
    access: CaseAccess,
    case_ref: str,
    event: EventIn,
    *,
    now: datetime,
) -> CaseOut:
    case = find_visible(session, access, case_ref, lock=True)
    if _ORDER[event.type] <= _ORDER[case.status]:
        raise Conflict(_OUT_OF_ORDER)
    override = _needs_override(case, event)
    stored: dict[str, object] = {"to": event.to, "outcome": event.outcome}
    if override:
        stored["override"] = True
        stored["override_reason_sealed"] = seal(
            {"override_reason": event.override_reason},
            public_keys=case_public_keys(context, session, case),
            aad=case_aad(case.case_ref),
        )
    clear = {key: value for key, value in stored.items() if value is not None}
    session.add(
        CaseEvent(
            case_id=case.id,
            type=event.type,
            at=now,
            actor=access.staff.username,
            detail=json.dumps(clear, separators=(",", ":")) if clear else None,
        )
    )
    case.status = event.type
    case.acknowledged_at = case.acknowledged_at or now
    case.updated_at = now
    audit.append(
        session,
        actor=access.staff.username,
        action="case.event",
        case_ref=case.case_ref,
        detail={"type": event.type, "to": event.to, "outcome": event.outcome, "override": override},
    )
    return CaseOut.of(case, now=now)


def _needs_override(case: Case, event: EventIn) -> bool:
    """True when this referral goes ahead on an override; Conflict when it may not."""
    if event.to != "assistance" or case.consent_refer_to_services:
        return False
    if event.override_reason is None:
        raise Conflict(_NO_CONSENT)
    return True
