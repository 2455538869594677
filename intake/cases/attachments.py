"""Reading a case's attachment (SPEC 17): its envelope, for a recipient to open.

A pending or lost attachment has no envelope yet (or ever): 409, so the
page can tell "not yet" from "no such attachment" (404, as for a case that
is not the caller's).
"""

from __future__ import annotations

import json

from sqlalchemy.orm import Session

from intake.audit import trail as audit
from intake.cases.schemas import AttachmentOut
from intake.cases.service import find_visible
from intake.errors import Conflict, NotFound
from intake.staff.deps import CaseAccess

_NOT_FOUND = "No such attachment."
_NOT_READY = "The attachment is not stored (yet): see its status."


def read_attachment(
    session: Session, access: CaseAccess, case_ref: str, attachment_id: int
) -> AttachmentOut:
    case = find_visible(session, access, case_ref)
    found = next((item for item in case.attachments if item.id == attachment_id), None)
    if found is None:
        raise NotFound(_NOT_FOUND)
    if found.envelope is None:
        raise Conflict(_NOT_READY)
    audit.append(
        session,
        actor=access.staff.username,
        action="case.attachment.read",
        case_ref=case.case_ref,
        detail={"attachment_id": found.id, "envelope_sha256": found.envelope_sha256},
    )
    return AttachmentOut(
        id=found.id,
        case_ref=case.case_ref,
        kind=found.kind,
        status=found.status,
        envelope=json.loads(found.envelope),
    )
