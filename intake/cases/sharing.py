"""Granting access and handing a case over: the server never holds a data key.

A recipient re-seals the case's data key to each of another focal point's public
keys on their own device (`crypto.envelope.add_recipient`) and uploads only the new
`{kid, sealed_key}` entries. The server checks that the entries cover exactly that
focal point's keys in the active routing table (during a key rotation it lists
the old and the new key, and a grant sealed to one of them only would leave it
unable to open the case once it holds the other), appends them, and records it.
It cannot check that the entry opens the case (that needs a private key); a
recipient who uploads a wrong entry only shares nothing.

A handover also ends the caller's access through the service (404 from then
on). It cannot take back what their key already opened: their entry stays in
the envelope, which no server-side edit could make safe anyway.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

from sqlalchemy.orm import Session

from crypto.envelope import validate_envelope_shape
from crypto.errors import CryptoError
from intake.audit import trail as audit
from intake.cases.schemas import CaseOut, RecipientIn
from intake.cases.service import find_visible, refuse_if_shredded
from intake.context import AppContext
from intake.errors import Conflict, InvalidInput
from intake.models import Case, CaseRecipient
from intake.outbox.notifications import alert_focal_point
from intake.staff.deps import CaseAccess
from routing.table import RoutingTable

_WRONG_KEY = "That key is not one of that focal point's keys in the active routing table."
_BAD_ENTRY = "The sealed key entry is not valid (kid: 32 hex digits; sealed_key: base64)."
_ALREADY = "That focal point is already a recipient of this case."
_MISSING_KEY = (
    "Seal the case's key to every one of that focal point's keys in the active routing table."
)


def add_recipient(
    session: Session,
    context: AppContext,
    access: CaseAccess,
    case_ref: str,
    grant: RecipientIn,
    *,
    now: datetime,
) -> CaseOut:
    case = find_visible(session, access, case_ref, lock=True)
    refuse_if_shredded(case)
    table = _active_table(context, session)
    _check_keys(case, table.kids_of(grant.focal_point), grant)
    existing = {r.focal_point_id: r for r in case.recipients}
    if grant.focal_point in existing and existing[grant.focal_point].active:
        raise Conflict(_ALREADY)
    _append_entry(case, grant)
    if grant.focal_point in existing:
        existing[grant.focal_point].active = True
    else:
        position = max((r.position for r in case.recipients), default=-1) + 1
        case.recipients.append(
            CaseRecipient(focal_point_id=grant.focal_point, position=position, added_at=now)
        )
    case.updated_at = now
    actor = access.staff.username
    audit.append(
        session,
        actor=actor,
        action="case.recipient_added",
        case_ref=case.case_ref,
        detail={
            "focal_point": grant.focal_point,
            "kids": [entry.kid for entry in grant.entries],
            "envelope_sha256": case.envelope_sha256,
        },
    )
    if grant.handover:
        _hand_over(session, case, access, to=grant.focal_point)
    _notify(session, table, case, grant.focal_point)
    session.flush()
    return CaseOut.of(case, now=now)


def _active_table(context: AppContext, session: Session) -> RoutingTable:
    return context.routing.active(session).table


def _check_keys(case: Case, kids: set[str], grant: RecipientIn) -> None:
    given = {entry.kid for entry in grant.entries}
    if not given <= kids:
        raise InvalidInput(_WRONG_KEY)
    held = {entry.get("kid") for entry in json.loads(case.envelope)["recipients"]}
    if not kids <= given | held:
        raise InvalidInput(_MISSING_KEY)


def _append_entry(case: Case, grant: RecipientIn) -> None:
    envelope = json.loads(case.envelope)
    held = {entry.get("kid") for entry in envelope["recipients"]}
    added = [entry for entry in grant.entries if entry.kid not in held]
    if not added:
        return  # every one of those keys can already open the case
    for entry in added:
        envelope["recipients"].append({"kid": entry.kid, "sealed_key": entry.sealed_key})
    try:
        validate_envelope_shape(envelope)
    except CryptoError:
        raise InvalidInput(_BAD_ENTRY) from None
    case.envelope = json.dumps(envelope, separators=(",", ":"))
    case.envelope_sha256 = hashlib.sha256(case.envelope.encode("utf-8")).hexdigest()


def _hand_over(session: Session, case: Case, access: CaseAccess, *, to: str) -> None:
    mine = access.staff.focal_point_id
    for recipient in case.recipients:
        if recipient.focal_point_id == mine:
            recipient.active = False
    audit.append(
        session,
        actor=access.staff.username,
        action="case.handover",
        case_ref=case.case_ref,
        detail={"from": mine, "to": to},
    )


def _notify(session: Session, table: RoutingTable, case: Case, focal_point_id: str) -> None:
    """The same content-free alert a newly routed case sends (outbox kind `notify`)."""
    alert_focal_point(session, table, case, focal_point_id, "new_case")
