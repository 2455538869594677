"""Claiming outbox entries so that several workers never send one twice.

A claim is a short transaction: pick due entries (`FOR UPDATE SKIP LOCKED` on
PostgreSQL; SQLite's `BEGIN IMMEDIATE` already serialises writers), push their
`available_at` to the end of a lease, count the attempt, commit. The send
happens outside any transaction; the outcome is written in a new one, and
only while the lease is still ours (`available_at` equals the lease end we
set), so a late worker never overwrites a re-claim. A worker that dies
mid-send leaves its entries to come back when the lease ends.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from intake.db import transaction
from intake.models import OutboxEntry

LEASE = timedelta(minutes=2)
MAX_ATTEMPTS = 12
BACKOFF_BASE_S = 15.0
BACKOFF_CAP_S = 3600.0
_system_random = random.SystemRandom()


@dataclass(frozen=True)
class Claimed:
    """An entry this worker holds until `lease_until`."""

    id: int
    kind: str
    attempts: int  # including this one
    lease_until: datetime
    payload: str = field(repr=False)  # content-free or sealed; still kept out of reprs


def backoff_delay(
    attempts: int, *, jitter: Callable[[], float] = _system_random.random
) -> timedelta:
    """Exponential backoff with jitter: between half and all of base * 2^(attempts-1), capped.

    The jitter spreads retries of entries that failed together (one outage)
    so they do not all come back in the same second.
    """
    ceiling = min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** max(0, attempts - 1))
    return timedelta(seconds=ceiling / 2 + jitter() * ceiling / 2)


def _pending() -> ColumnElement[bool]:
    return and_(OutboxEntry.sent_at.is_(None), OutboxEntry.failed_at.is_(None))


def claim(
    sessions: sessionmaker[Session],
    *,
    kinds: Collection[str],
    now: datetime,
    limit: int,
    lease: timedelta = LEASE,
) -> list[Claimed]:
    """Take up to `limit` due entries of `kinds`, oldest first, for `lease`."""
    if not kinds or limit < 1:
        return []
    lease_until = now + lease
    with transaction(sessions) as session:
        rows = session.scalars(
            select(OutboxEntry)
            .where(_pending(), OutboxEntry.available_at <= now, OutboxEntry.kind.in_(kinds))
            .order_by(OutboxEntry.available_at, OutboxEntry.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        for row in rows:
            row.available_at = lease_until
            row.attempts += 1
        return [Claimed(r.id, r.kind, r.attempts, lease_until, r.payload) for r in rows]


def _settle(sessions: sessionmaker[Session], claimed: Claimed, **values: object) -> bool:
    """Write an outcome while the lease is still ours; False when it was lost."""
    with transaction(sessions) as session:
        result = session.execute(
            update(OutboxEntry)
            .where(
                OutboxEntry.id == claimed.id,
                _pending(),
                OutboxEntry.available_at == claimed.lease_until,
            )
            .values(**values)
        )
        return bool(getattr(result, "rowcount", 0))


def mark_sent(sessions: sessionmaker[Session], claimed: Claimed, *, now: datetime) -> bool:
    # To the minute: a sent alert names its case, and its time would date the report.
    return _settle(sessions, claimed, sent_at=now.replace(second=0, microsecond=0), last_error=None)


def mark_failed(
    sessions: sessionmaker[Session], claimed: Claimed, *, code: str, now: datetime
) -> bool:
    return _settle(sessions, claimed, failed_at=now, last_error=code)


def mark_retry(
    sessions: sessionmaker[Session],
    claimed: Claimed,
    *,
    code: str,
    now: datetime,
    max_attempts: int = MAX_ATTEMPTS,
    jitter: Callable[[], float] = _system_random.random,
) -> bool:
    """Schedule the next attempt with backoff, or give up after `max_attempts`."""
    if claimed.attempts >= max_attempts:
        return mark_failed(sessions, claimed, code=code, now=now)
    retry_at = now + backoff_delay(claimed.attempts, jitter=jitter)
    return _settle(sessions, claimed, available_at=retry_at, last_error=code)


def release(sessions: sessionmaker[Session], claimed: Claimed, *, now: datetime) -> bool:
    """Give back an entry this worker will not send after all (it is stopping)."""
    return _settle(sessions, claimed, available_at=now, attempts=claimed.attempts - 1)


def defer(sessions: sessionmaker[Session], claimed: Claimed, *, code: str, until: datetime) -> bool:
    """Give back an entry this worker cannot send (no transport): no attempt is counted."""
    return _settle(
        sessions, claimed, available_at=until, attempts=claimed.attempts - 1, last_error=code
    )


def wake(sessions: sessionmaker[Session], *, code: str, now: datetime) -> int:
    """Make entries deferred for `code` due now (their transport is configured at last)."""
    with transaction(sessions) as session:
        result = session.execute(
            update(OutboxEntry)
            .where(_pending(), OutboxEntry.last_error == code, OutboxEntry.available_at > now)
            .values(available_at=now)
        )
        return int(getattr(result, "rowcount", 0) or 0)


def waiting(session: Session, *, kinds: Collection[str], now: datetime) -> int:
    """How many due entries of `kinds` wait (e.g. for Twilio credentials)."""
    if not kinds:
        return 0
    count = session.scalar(
        select(func.count())
        .select_from(OutboxEntry)
        .where(_pending(), OutboxEntry.available_at <= now, OutboxEntry.kind.in_(kinds))
    )
    return int(count or 0)
