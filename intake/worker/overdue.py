"""Deadlines: mark cases past due and not acknowledged, and alert the coordinator.

The alert is content-free (case reference, deadline). It goes to the
`notify` addresses of `routing.engine.coordinator_for(active table, country)`.
The server holds no data key, so it cannot hand the content to the
coordinator: access for a new person is a re-seal by an existing recipient
or the escrow holder on their own device (docs/worker.md).
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.audit import trail as audit
from intake.models import Case, OutboxEntry
from intake.outbox.notifications import enqueue_alerts
from intake.routing_tables.store import RoutingState
from routing.engine import coordinator_for
from routing.table import RoutingTable

log = logging.getLogger("intake.worker.overdue")
OVERDUE_BATCH = 100
WORKER_ACTOR = "worker"


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def overdue_dedupe_key(case_ref: str, focal_point: str, address: str) -> str:
    """One alert per case, focal point and address, however often the pass runs."""
    digest = hashlib.sha256(f"{focal_point}\n{address}".encode()).hexdigest()[:32]
    return f"overdue:{case_ref}:{digest}"


def mark_overdue(
    session: Session, routing: RoutingState, *, now: datetime, limit: int = OVERDUE_BATCH
) -> list[str]:
    """Mark up to `limit` overdue cases in the caller's transaction; their references.

    Rows are locked with SKIP LOCKED on PostgreSQL, so two workers never mark
    (nor alert) one case twice; SQLite serialises the transactions instead.
    """
    cases = session.scalars(
        select(Case)
        .where(Case.status == "routed", Case.due_at < now, Case.overdue_marked_at.is_(None))
        .order_by(Case.due_at, Case.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    if not cases:
        return []
    table = routing.active(session).table
    for case in cases:
        case.overdue_marked_at = now
        alerted = _alert(session, table, case)
        audit.append(
            session,
            actor=WORKER_ACTOR,
            action="case.overdue",
            case_ref=case.case_ref,
            detail={"due_at": stamp(case.due_at), "alerted": alerted},
        )
        log.info("case overdue", extra={"case_ref": case.case_ref, "count": len(alerted)})
    return [case.case_ref for case in cases]


def _alert(session: Session, table: RoutingTable, case: Case) -> list[str]:
    """Queue the alerts; returns the focal point ids that have an address to alert."""
    alerted: list[str] = []
    for focal_point_id in coordinator_for(table, case.country):
        focal_point = table.focal_point(focal_point_id)
        addresses = focal_point.notify if focal_point is not None else ()
        for address in addresses:
            key = overdue_dedupe_key(case.case_ref, focal_point_id, address)
            if session.scalar(select(OutboxEntry.id).where(OutboxEntry.dedupe_key == key)):
                continue
            enqueue_alerts(
                session,
                case_ref=case.case_ref,
                focal_point=focal_point_id,
                addresses=(address,),
                event="overdue",
                due_at=case.due_at,
                dedupe_key=key,
            )
        if addresses:
            alerted.append(focal_point_id)
    return alerted
