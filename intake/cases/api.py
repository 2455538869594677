"""The staff case endpoints (SPEC section 4); who may call them is in intake/staff/deps.py.

Each endpoint is the use case: it opens one transaction, the services flush,
and the commit happens before the answer is sent.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response, status

from intake.cases import attachments, detail, lifecycle, messages, service, sharing
from intake.cases.schemas import (
    AttachmentOut,
    CaseDetail,
    CaseList,
    CaseOut,
    EventIn,
    MessageIn,
    MessageOut,
    RecipientIn,
    ShreddedCaseDetail,
)
from intake.db import transaction
from intake.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized, problem_doc
from intake.http.deps import Context
from intake.models import utcnow
from intake.staff.deps import CaseListAccess, RecipientAccess
from intake.vocab import Status

_Responses = dict[int | str, dict[str, Any]]
_NOT_YOURS: _Responses = {NotFound.status: problem_doc("No such case among yours.")}
_OUT_OF_ORDER: _Responses = {Conflict.status: problem_doc("Not allowed in this state.")}
router = APIRouter(
    prefix="/api/v1/cases",
    tags=["cases"],
    responses={
        Unauthorized.status: problem_doc("Missing, unknown, expired or revoked."),
        Forbidden.status: problem_doc("This role may not use this endpoint."),
        InvalidInput.status: problem_doc("The request is not valid."),
    },
)
_NO_STORE = "no-store"  # summaries and envelopes: no cache may keep them


@router.get("", response_model=CaseList)
def list_cases(
    access: CaseListAccess,
    context: Context,
    response: Response,
    status_filter: Annotated[Status | None, Query(alias="status")] = None,
    overdue: bool | None = None,
    limit: Annotated[int | None, Query(ge=1, le=service.PAGE_MAX)] = None,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> CaseList:
    """A focal point's cases, or a coordinator's country's; newest first."""
    response.headers["Cache-Control"] = _NO_STORE
    query = service.list_query(status=status_filter, overdue=overdue, limit=limit, cursor=cursor)
    with transaction(context.sessions) as session:
        return service.list_cases(session, access, query, now=utcnow())


@router.get("/{case_ref}", response_model=CaseDetail | ShreddedCaseDetail, responses=_NOT_YOURS)
def read_case(
    case_ref: str, access: RecipientAccess, context: Context, response: Response
) -> CaseDetail | ShreddedCaseDetail:
    """The summary, the sealed envelope (open it on your own device), the routing, the
    keys to seal to again, the events and the messages (each sealed like the case)."""
    response.headers["Cache-Control"] = _NO_STORE
    with transaction(context.sessions) as session:
        return detail.case_detail(session, context, access, case_ref, now=utcnow())


@router.get(
    "/{case_ref}/attachments/{attachment_id}",
    response_model=AttachmentOut,
    responses={**_NOT_YOURS, Conflict.status: problem_doc("Not stored yet, or lost.")},
)
def read_attachment(
    case_ref: str, attachment_id: int, access: RecipientAccess, context: Context, response: Response
) -> AttachmentOut:
    """An attachment's envelope (a spoken account's audio): open it on your own device."""
    response.headers["Cache-Control"] = _NO_STORE
    with transaction(context.sessions) as session:
        return attachments.read_attachment(session, access, case_ref, attachment_id)


@router.post(
    "/{case_ref}/events",
    status_code=status.HTTP_201_CREATED,
    response_model=CaseOut,
    responses={**_NOT_YOURS, **_OUT_OF_ORDER},
)
def add_event(
    case_ref: str, event: Annotated[EventIn, Body()], access: RecipientAccess, context: Context
) -> CaseOut:
    """acknowledged, referred (to investigation or assistance), investigating, closed."""
    with transaction(context.sessions) as session:
        return lifecycle.record_event(session, context, access, case_ref, event, now=utcnow())


@router.post(
    "/{case_ref}/messages",
    status_code=status.HTTP_201_CREATED,
    response_model=MessageOut,
    responses=_NOT_YOURS,
)
def add_message(
    case_ref: str, message: Annotated[MessageIn, Body()], access: RecipientAccess, context: Context
) -> MessageOut:
    """A message the reporter sees at follow-up (and by SMS when consent allows).

    `{"text": ...}` is sealed here; `{"sealed": {"to_reporter", "envelope"}}` was
    sealed in the focal point's page. With both, the text only goes to the SMS channel."""
    with transaction(context.sessions) as session:
        return messages.send_message(session, context, access, case_ref, message, now=utcnow())


@router.post(
    "/{case_ref}/recipients",
    status_code=status.HTTP_201_CREATED,
    response_model=CaseOut,
    responses={**_NOT_YOURS, Conflict.status: problem_doc("Already a recipient.")},
)
def add_recipient(
    case_ref: str, grant: Annotated[RecipientIn, Body()], access: RecipientAccess, context: Context
) -> CaseOut:
    """Give another focal point access: upload the `{kid, sealed_key}` entries you made on
    your own device with `crypto.envelope.add_recipient`, one per key of theirs in the
    active table (`sealed_keys`; `sealed_key` for one); `handover` ends your access."""
    with transaction(context.sessions) as session:
        return sharing.add_recipient(session, context, access, case_ref, grant, now=utcnow())
