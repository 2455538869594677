"""Reading cases as staff: lists with cursors, one case with its envelope.

Every query is narrowed by `CaseAccess.scope` (intake/staff/deps.py), so a
case outside an account's reach is "not found" exactly like a missing one.
Every look is appended to the audit trail in the same transaction. Functions
here and in the sibling modules take the session and flush; the endpoint
opens the transaction and commits once.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime

from pydantic import Field, ValidationError
from sqlalchemy import ColumnElement, Select, and_, not_, select
from sqlalchemy.orm import Session, selectinload

from intake.audit import trail as audit
from intake.cases.schemas import CaseList, CaseOut
from intake.context import AppContext
from intake.errors import Conflict, InvalidInput, NotFound
from intake.models import Case
from intake.reports.schemas import Schema
from intake.staff.deps import CaseAccess
from intake.vocab import ROUTED, Status

PAGE_DEFAULT = 50
PAGE_MAX = 100
_NOT_FOUND = "No such case."
_BAD_CURSOR = "The cursor is not valid; start again without it."
_SHREDDED = "The case's content was destroyed at the end of its retention period."
_LOADED = (selectinload(Case.recipients), selectinload(Case.attachments))


@dataclass(frozen=True)
class ListQuery:
    """One page: filters, page size, and the last case id of the previous page."""

    status: Status | None = None
    overdue: bool | None = None
    limit: int = PAGE_DEFAULT
    after_id: int | None = None


class _Cursor(Schema):
    # Short names keep the opaque string short; the filters travel with it so
    # `?cursor=<next>` alone gives the next page (SPEC section 9).
    a: int = Field(ge=1)
    s: Status | None = None
    o: bool | None = None
    n: int = Field(ge=1, le=PAGE_MAX)


def encode_cursor(query: ListQuery, after_id: int) -> str:
    cursor = _Cursor(a=after_id, s=query.status, o=query.overdue, n=query.limit)
    raw = cursor.model_dump_json(exclude_none=True).encode("ascii")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def list_query(
    *, status: Status | None, overdue: bool | None, limit: int | None, cursor: str | None
) -> ListQuery:
    """Filters given with a cursor replace the cursor's own."""
    if cursor is None:
        return ListQuery(status=status, overdue=overdue, limit=limit or PAGE_DEFAULT)
    saved = _decode_cursor(cursor)
    return ListQuery(
        status=status if status is not None else saved.s,
        overdue=overdue if overdue is not None else saved.o,
        limit=limit or saved.n,
        after_id=saved.a,
    )


def _decode_cursor(text: str) -> _Cursor:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        return _Cursor.model_validate_json(raw)
    except (binascii.Error, ValueError, ValidationError):
        raise InvalidInput(_BAD_CURSOR) from None


def list_cases(
    session: Session, access: CaseAccess, query: ListQuery, *, now: datetime
) -> CaseList:
    found = list(session.scalars(_page_statement(access, query, now)))
    page, more = found[: query.limit], len(found) > query.limit
    audit.append(
        session,
        actor=access.staff.username,
        action="case.list",
        detail={
            "status": query.status,
            "overdue": query.overdue,
            "after": query.after_id,
            "case_refs": [case.case_ref for case in page],
        },
    )
    items = [CaseOut.of(case, now=now) for case in page]
    next_cursor = encode_cursor(query, page[-1].id) if more else None
    return CaseList(items=items, next=next_cursor)


def _page_statement(access: CaseAccess, query: ListQuery, now: datetime) -> Select[Case]:
    statement = select(Case).where(access.scope).options(*_LOADED)
    if query.status is not None:
        statement = statement.where(Case.status == query.status)
    if query.overdue is not None:
        overdue = overdue_clause(now)
        statement = statement.where(overdue if query.overdue else not_(overdue))
    if query.after_id is not None:
        statement = statement.where(Case.id < query.after_id)
    # Newest first; the id is the stable key the cursor continues from.
    return statement.order_by(Case.id.desc()).limit(query.limit + 1)


def overdue_clause(now: datetime) -> ColumnElement[bool]:
    """A case past its due time and not acknowledged (CaseSummary `overdue`)."""
    return and_(Case.status == ROUTED, Case.due_at < now)


def find_visible(
    session: Session, access: CaseAccess, case_ref: str, *, lock: bool = False
) -> Case:
    """The case if this account may see it; NotFound otherwise (no hint either way)."""
    statement = select(Case).where(Case.case_ref == case_ref, access.scope).options(*_LOADED)
    if lock:
        statement = statement.with_for_update(of=Case)
    case = session.scalars(statement).first()
    if case is None:
        raise NotFound(_NOT_FOUND)
    return case


def read_case(session: Session, access: CaseAccess, case_ref: str, *, now: datetime) -> Case:
    """The case, its look appended to the audit trail."""
    case = find_visible(session, access, case_ref)
    audit.append(
        session,
        actor=access.staff.username,
        action="case.read",
        case_ref=case.case_ref,
        detail={"envelope_sha256": case.envelope_sha256},
    )
    return case


class CaseShredded(Conflict):
    """A shredded case (retention, SPEC 12) takes no new sealed data: no message, no key."""

    def __init__(self) -> None:
        super().__init__(_SHREDDED)


def refuse_if_shredded(case: Case) -> None:
    if case.shredded_at is not None:
        raise CaseShredded


ESCROW = "escrow"  # the `focal_point` of escrow keys in `recipient_keys`


def case_recipient_keys(
    context: AppContext, session: Session, case: Case
) -> list[tuple[str, bytes]]:
    """(focal point id or "escrow", key) of the case's active recipients (active table,
    else the routing-time table) and of the active table's escrow: who a new sealed
    value goes to, each key once."""
    active = context.routing.active(session).table
    original = (
        context.routing.table(session, case.routing_table_id) if case.routing_table_id else None
    )
    keys: dict[bytes, str] = {}
    for recipient in case.recipients:
        if not recipient.active:
            continue
        for table in (active, original):
            if table is not None and table.focal_point(recipient.focal_point_id) is not None:
                for key in table.public_keys_for([recipient.focal_point_id]):
                    keys.setdefault(key, recipient.focal_point_id)
                break
    for key in active.escrow_keys:
        keys.setdefault(key, ESCROW)
    if not keys:
        raise Conflict("No recipient key is known for this case.")
    return [(owner, key) for key, owner in keys.items()]


def case_public_keys(context: AppContext, session: Session, case: Case) -> list[bytes]:
    """The keys of `case_recipient_keys`, in order."""
    return [key for _owner, key in case_recipient_keys(context, session, case)]
