"""The focal point inbox's list: the cases `GET /api/v1/cases` would list, in work order.

Overdue cases first, then by `due_at`, then oldest first; pages by number (an
inbox is short, and a page number survives a reload). Each look is audited
like the API's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, and_, case, func, select
from sqlalchemy.orm import Session, selectinload

from intake.audit import trail as audit
from intake.cases.schemas import CaseOut
from intake.models import Case
from intake.staff.deps import CaseAccess
from intake.vocab import Status

PAGE_SIZE = 25


@dataclass(frozen=True)
class InboxPage:
    items: list[CaseOut]
    page: int
    pages: int
    total: int
    # Cases with a reporter reply no focal point has opened yet (SPEC 16): shown as new.
    new_replies: frozenset[str] = frozenset()


def inbox_page(
    session: Session, access: CaseAccess, *, status: Status | None, page: int, now: datetime
) -> InboxPage:
    """Page `page` (from 1) of the account's cases; a page past the end is the last one."""
    statement = select(Case).where(access.scope)
    if status is not None:
        statement = statement.where(Case.status == status)
    total = int(session.scalar(select(func.count()).select_from(statement.subquery())) or 0)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, page), pages)
    found = list(session.scalars(_ordered(statement, now).offset((page - 1) * PAGE_SIZE)))
    audit.append(
        session,
        actor=access.staff.username,
        action="case.list",
        detail={"status": status, "page": page, "case_refs": [c.case_ref for c in found]},
    )
    items = [CaseOut.of(found_case, now=now) for found_case in found]
    new_replies = frozenset(found_case.case_ref for found_case in found if found_case.reply_unseen)
    return InboxPage(items=items, page=page, pages=pages, total=total, new_replies=new_replies)


def _ordered(statement: Select[Case], now: datetime) -> Select[Case]:
    overdue = case((and_(Case.status == "routed", Case.due_at < now), 0), else_=1)
    return (
        statement.options(selectinload(Case.recipients))
        .order_by(overdue, Case.due_at, Case.id)
        .limit(PAGE_SIZE)
    )
