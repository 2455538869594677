"""Once a day, the audit trail's head goes to `[audit] notify` (SPEC 15).

The notice is content-free: the newest entry's `seq`, `hash` and minute.
Kept outside the database (a mailbox, a webhook's log), it lets anyone run
`intake audit verify --head SEQ:HASH` later and see a trail that was cut
off or rebuilt, even by someone holding the server secret.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.audit import trail as audit
from intake.models import OutboxEntry
from intake.outbox.enqueue import enqueue
from intake.outbox.kinds import NOTIFY
from routing.table import RoutingTable

AUDIT_HEAD_EVENT = "audit_head"


def head_dedupe_key(day: str, address: str) -> str:
    """One notice per day and address, however many workers or passes run."""
    digest = hashlib.sha256(address.encode("utf-8")).hexdigest()[:32]
    return f"{AUDIT_HEAD_EVENT}:{day}:{digest}"


def enqueue_daily_head(session: Session, table: RoutingTable | None, *, now: datetime) -> int:
    """Queue today's head for each `[audit] notify` address not yet sent it; how many."""
    if table is None or table.audit is None or not table.audit.notify:
        return 0
    newest = audit.head(session)
    if newest is None:
        return 0
    day = now.astimezone(UTC).strftime("%Y-%m-%d")
    keys = {address: head_dedupe_key(day, address) for address in table.audit.notify}
    done = set(
        session.scalars(select(OutboxEntry.dedupe_key).where(OutboxEntry.dedupe_key.in_(keys)))
    )
    payload = {
        "event": AUDIT_HEAD_EVENT,
        "seq": newest.seq,
        "hash": newest.hash,
        "at": newest.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    queued = 0
    for address, key in keys.items():
        if key not in done:
            enqueue(
                session,
                NOTIFY,
                {**payload, "address": address},
                dedupe_key=key,
                available_at=now,
            )
            queued += 1
    session.flush()
    return queued
