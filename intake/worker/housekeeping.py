"""Each pass forgets what has outlived its purpose.

Expired rate counters (and so the source hashes they hold), used prepared
tokens past their expiry (SPEC 11: refused as expired by then), outbox entries
sent more than `SENT_KEPT` (7 days) ago (SPEC 15: who was alerted about which
case, and when), and whatever each installed channel says has expired (the
SMS channel: idle conversations with their sealed drafts, stored replies after
15 minutes, processed-message hashes after 7 days). Failed entries stay for an
operator to see.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from intake import ratelimit
from intake.context import ChannelHooks
from intake.models import OutboxEntry
from intake.reports import prepared

SENT_KEPT = timedelta(days=7)


def purge_expired(session: Session, *, now: datetime, channels: Sequence[ChannelHooks] = ()) -> int:
    """Rows deleted or cleared, in the caller's transaction."""
    purged = ratelimit.purge_expired(session, now) + purge_sent(session, now=now)
    purged += prepared.purge_expired(session, now)
    for channel in channels:
        purged += channel.purge_expired(session, now=now)
    return purged


def purge_sent(session: Session, *, now: datetime) -> int:
    """Delete outbox entries sent `SENT_KEPT` ago or longer."""
    statement = delete(OutboxEntry).where(
        OutboxEntry.sent_at.is_not(None), OutboxEntry.sent_at <= now - SENT_KEPT
    )
    count: int = session.execute(statement).rowcount  # type: ignore[attr-defined]
    return count
