"""Fixed-window counters in the database, shared by every server process.

A source is a keyed hash of an address or phone number (never the value);
rows are deleted once their window has passed, so nothing outlives the limit's
window. The increment is one atomic upsert on both backends; in a batch of the
group-commit writer, one upsert a counter for the whole batch
(`record_at_batch_end`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from crypto.server_secret import ServerSecret
from intake.db import at_batch_end
from intake.errors import TooManyRequests
from intake.models import RateCounter, utcnow
from intake.settings import RateLimit

GLOBAL_SOURCE = b"\0" * 32
_PENDING = "intake.ratelimit.pending"  # Session.info: events counted at the batch's end


def source_key(secret: ServerSecret, value: str) -> bytes:
    """The keyed hash that stands for an address or number in counters."""
    return secret.keyed_hash("rate-source", value.encode("utf-8"))


def window_start(limit: RateLimit, now: datetime) -> datetime:
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % limit.period_s, now.tzinfo)


def retry_after(limit: RateLimit, now: datetime) -> int:
    end = window_start(limit, now) + timedelta(seconds=limit.period_s)
    return max(1, int((end - now).total_seconds()) + 1)


# Built once: every report reads a counter before its write.
_COUNT = select(RateCounter.count).where(
    RateCounter.scope == bindparam("scope"),
    RateCounter.source == bindparam("source"),
    RateCounter.window_start == bindparam("start"),
)


def count(session: Session, scope: str, source: bytes, limit: RateLimit, now: datetime) -> int:
    start = window_start(limit, now)
    value = session.scalar(_COUNT, {"scope": scope, "source": source, "start": start})
    return value or 0


def is_over(session: Session, scope: str, source: bytes, limit: RateLimit, now: datetime) -> bool:
    return limit.enabled and count(session, scope, source, limit, now) >= limit.count


def record(
    session: Session,
    scope: str,
    source: bytes,
    limit: RateLimit,
    now: datetime,
    *,
    events: int = 1,
) -> int:
    """Count `events`; returns the window's count including them."""
    start = window_start(limit, now)
    values = {
        "scope": scope,
        "source": source,
        "window_start": start,
        "count": events,
        "expires_at": start + timedelta(seconds=limit.period_s),
    }
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    upsert = (
        insert(RateCounter)
        .values(**values)
        .on_conflict_do_update(
            index_elements=["scope", "source", "window_start"],
            set_={"count": RateCounter.count + events},
        )
        .returning(RateCounter.count)
    )
    result: int = session.execute(upsert).scalar_one()
    return result


def record_at_batch_end(
    session: Session, scope: str, source: bytes, limit: RateLimit, now: datetime
) -> None:
    """Count one event with the rest of the writer's batch; TooManyRequests there if over.

    The batch is then rolled back and its units run again one by one, each
    counted at once with `record`, so exactly the events over the limit are refused.
    """
    pending: dict[tuple[str, bytes, datetime], tuple[RateLimit, datetime, int]]
    pending = session.info.setdefault(_PENDING, {})
    key = (scope, source, window_start(limit, now))
    _limit, _first, events = pending.get(key, (limit, now, 0))
    pending[key] = (limit, now, events + 1)
    at_batch_end(session, _PENDING, _record_pending)


def _record_pending(session: Session) -> None:
    for (scope, source, _start), (limit, now, events) in session.info.pop(_PENDING, {}).items():
        if record(session, scope, source, limit, now, events=events) > limit.count:
            raise TooManyRequests(retry_after(limit, now))


def release(session: Session, scope: str, source: bytes, limit: RateLimit, now: datetime) -> None:
    """Give back one counted event (an attempt that turned out to succeed)."""
    session.execute(
        update(RateCounter)
        .where(
            RateCounter.scope == scope,
            RateCounter.source == source,
            RateCounter.window_start == window_start(limit, now),
            RateCounter.count > 0,
        )
        .values(count=RateCounter.count - 1)
    )


def purge_expired(session: Session, now: datetime | None = None) -> int:
    """Forget counters (and so source hashes) whose window has passed."""
    result = session.execute(delete(RateCounter).where(RateCounter.expires_at <= (now or utcnow())))
    return int(getattr(result, "rowcount", 0) or 0)
