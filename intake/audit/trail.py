"""The audit trail: append-only, each entry's hash covering the previous hash.

Appends take the chain head (`system_values.audit_head`) with a row lock, so
concurrent transactions on PostgreSQL extend one chain instead of forking it
(SQLite's BEGIN IMMEDIATE already serialises writers). Details are
content-free: ids, codes and envelope hashes, never sealed values.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.models import AuditEvent, SystemValue, utcnow

HEAD = "audit_head"
GENESIS = "0" * 64


def entry_hash(
    *, prev_hash: str, at: datetime, actor: str, action: str, case_ref: str | None, detail: str
) -> str:
    canonical = json.dumps(
        [prev_hash, at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), actor, action, case_ref, detail],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def append(
    session: Session,
    *,
    actor: str,
    action: str,
    case_ref: str | None = None,
    detail: Mapping[str, object] | None = None,
) -> AuditEvent:
    head = session.scalars(
        select(SystemValue).where(SystemValue.name == HEAD).with_for_update()
    ).one()
    prev_hash = head.value.decode("ascii")
    # Microseconds are kept exactly: the hash covers the stored timestamp.
    at = utcnow()
    detail_text = json.dumps(dict(detail or {}), sort_keys=True, separators=(",", ":"))
    digest = entry_hash(
        prev_hash=prev_hash,
        at=at,
        actor=actor,
        action=action,
        case_ref=case_ref,
        detail=detail_text,
    )
    event = AuditEvent(
        at=at,
        actor=actor,
        action=action,
        case_ref=case_ref,
        detail=detail_text,
        prev_hash=prev_hash,
        hash=digest,
    )
    session.add(event)
    head.value = digest.encode("ascii")
    session.flush()
    return event


@dataclass(frozen=True)
class Break:
    entry_id: int
    reason: str


def verify(session: Session) -> Break | None:
    """The first broken entry of the chain, or None when it is whole."""
    expected_prev = GENESIS
    last_id = 0
    for event in _in_order(session):
        if event.prev_hash != expected_prev:
            return Break(event.id, "does not follow the previous entry (removed or reordered)")
        recomputed = entry_hash(
            prev_hash=event.prev_hash,
            at=event.at,
            actor=event.actor,
            action=event.action,
            case_ref=event.case_ref,
            detail=event.detail,
        )
        if recomputed != event.hash:
            return Break(event.id, "its content was changed")
        expected_prev, last_id = event.hash, event.id
    head = session.get(SystemValue, HEAD)
    if head is None or head.value.decode("ascii") != expected_prev:
        return Break(last_id + 1, "entries after this point were removed")
    return None


def _in_order(session: Session) -> Iterator[AuditEvent]:
    yield from session.scalars(select(AuditEvent).order_by(AuditEvent.id)).yield_per(500)
