"""The content-free alert to a focal point: the one place its payload is built.

It names the case, the event and the deadline, never content; the worker's
"notify" handler (`intake.worker.notify`) delivers it by mail or webhook.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

from sqlalchemy.orm import Session

from intake.outbox.enqueue import enqueue_many, entry_values
from intake.outbox.kinds import NOTIFY

if TYPE_CHECKING:
    from intake.models import Case
    from routing.table import RoutingTable

NotifyEvent = Literal["new_case", "overdue", "reporter_reply"]


def enqueue_alerts(
    session: Session,
    *,
    case_ref: str,
    focal_point: str,
    addresses: Iterable[str],
    event: NotifyEvent,
    due_at: datetime,
    dedupe_key: str | None = None,
) -> int:
    """One outbox entry per address, in the caller's transaction; how many were queued."""
    due = due_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    entries = [
        entry_values(
            NOTIFY,
            {
                "case_ref": case_ref,
                "focal_point": focal_point,
                "address": address,
                "event": event,
                "due_at": due,
            },
            dedupe_key,
        )
        for address in addresses
    ]
    enqueue_many(session, entries)
    return len(entries)


def alert_focal_point(
    session: Session, table: RoutingTable, case: Case, focal_point_id: str, event: NotifyEvent
) -> int:
    """The alert to every `notify` address the routing table gives this focal point."""
    focal_point = table.focal_point(focal_point_id)
    return enqueue_alerts(
        session,
        case_ref=case.case_ref,
        focal_point=focal_point_id,
        addresses=focal_point.notify if focal_point else (),
        event=event,
        due_at=case.due_at,
    )
