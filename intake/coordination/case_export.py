"""The case export (SPEC section 12): one row of clear metadata per case, never content.

Cases are read in keyset batches by id (`BATCH` at a time, with their
recipients and lifecycle events fetched for that batch only), so an export of
any size holds one batch in memory, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select, true
from sqlalchemy.orm import Session

from intake.cases.schemas import rfc3339
from intake.coordination.files import Row
from intake.models import Case, CaseEvent, CaseRecipient

COLUMNS = (
    "case_ref",
    "received_at",
    "channel",
    "reporter_type",
    "language",
    "country",
    "category",
    "affiliation",
    "victim_is_child",
    "consent_contact_me",
    "consent_share_with_investigators",
    "consent_refer_to_services",
    "status",
    "due_at",
    "overdue",
    "acknowledged_at",
    "referred_to",
    "closed_at",
    "outcome",
    "rule",
    "table_version",
    "recipients",
)
BATCH = 1000
RECIPIENT_SEPARATOR = ";"  # focal point ids never hold one


@dataclass(frozen=True)
class ExportFilter:
    """Which cases: a country (None: every one) and `received_at` days, both inclusive."""

    country: str | None = None
    start: date | None = None
    end: date | None = None

    def condition(self) -> ColumnElement[bool]:
        parts: list[ColumnElement[bool]] = []
        if self.country is not None:
            parts.append(Case.country == self.country)
        if self.start is not None:
            parts.append(Case.received_at >= _midnight(self.start))
        if self.end is not None:
            parts.append(Case.received_at < _midnight(self.end + timedelta(days=1)))
        return and_(true(), *parts)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def count(session: Session, which: ExportFilter) -> int:
    return int(session.scalar(select(func.count(Case.id)).where(which.condition())) or 0)


def rows(session: Session, which: ExportFilter, *, now: datetime) -> Iterator[Row]:
    """Every matching case as a row of `COLUMNS`, oldest id first."""
    after = 0
    while True:
        # Named columns only: the envelope and the receipt values are never read.
        statement = (
            select(*_FIELDS)
            .where(which.condition(), Case.id > after)
            .order_by(Case.id)
            .limit(BATCH)
        )
        batch = list(session.execute(statement))
        if not batch:
            return
        ids: list[int] = [case.id for case in batch]
        recipients = _recipients(session, ids)
        events = _events(session, ids)
        for values in batch:
            yield _row(values, recipients, events, now=now)
        after = ids[-1]


_FIELDS = (
    Case.id,
    Case.case_ref,
    Case.received_at,
    Case.channel,
    Case.reporter_type,
    Case.language,
    Case.country,
    Case.category,
    Case.affiliation,
    Case.victim_is_child,
    Case.consent_contact_me,
    Case.consent_share_with_investigators,
    Case.consent_refer_to_services,
    Case.status,
    Case.due_at,
    Case.acknowledged_at,
    Case.rule_id,
    Case.table_version,
)


def _recipients(session: Session, ids: list[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = defaultdict(list)
    statement = (
        select(CaseRecipient.case_id, CaseRecipient.focal_point_id)
        .where(CaseRecipient.case_id.in_(ids), CaseRecipient.active.is_(True))
        .order_by(CaseRecipient.case_id, CaseRecipient.position, CaseRecipient.id)
    )
    for case_id, focal_point_id in session.execute(statement):
        found[case_id].append(focal_point_id)
    return found


@dataclass
class _Steps:
    referred_to: str | None = None
    closed_at: datetime | None = None
    outcome: str | None = None


def _events(session: Session, ids: list[int]) -> dict[int, _Steps]:
    """The referral target, the closing time and its outcome (the latest of each)."""
    found: dict[int, _Steps] = defaultdict(_Steps)
    statement = (
        select(CaseEvent.case_id, CaseEvent.type, CaseEvent.at, CaseEvent.detail)
        .where(CaseEvent.case_id.in_(ids), CaseEvent.type.in_(("referred", "closed")))
        .order_by(CaseEvent.id)
    )
    for case_id, kind, at, detail in session.execute(statement):
        clear = _detail(detail)
        steps = found[case_id]
        if kind == "referred":
            steps.referred_to = _text(clear.get("to"))
        else:
            steps.closed_at = at
            steps.outcome = _text(clear.get("outcome"))
    return found


def _detail(text: str | None) -> dict[str, object]:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _when(at: datetime | None) -> str | None:
    return None if at is None else rfc3339(at)


def _row(
    case: Any, recipients: dict[int, list[str]], events: dict[int, _Steps], *, now: datetime
) -> Row:
    steps = events.get(case.id, _Steps())
    return [
        case.case_ref,
        rfc3339(case.received_at),
        case.channel,
        case.reporter_type,
        case.language,
        case.country,
        case.category,
        case.affiliation,
        case.victim_is_child,
        bool(case.consent_contact_me),
        bool(case.consent_share_with_investigators),
        bool(case.consent_refer_to_services),
        case.status,
        rfc3339(case.due_at),
        case.status == "routed" and now > case.due_at,
        _when(case.acknowledged_at),
        steps.referred_to,
        _when(steps.closed_at),
        steps.outcome,
        case.rule_id,
        case.table_version,
        RECIPIENT_SEPARATOR.join(recipients.get(case.id, [])),
    ]
