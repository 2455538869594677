"""Each pass forgets what has outlived its purpose.

Expired rate counters (and so the source hashes they hold), and whatever
each installed channel says has expired (the SMS channel: idle conversations
with their sealed drafts, stored replies past their time).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from intake import ratelimit
from intake.context import ChannelHooks


def purge_expired(session: Session, *, now: datetime, channels: Sequence[ChannelHooks] = ()) -> int:
    """Rows deleted or cleared, in the caller's transaction."""
    purged = ratelimit.purge_expired(session, now)
    for channel in channels:
        purged += channel.purge_expired(session, now=now)
    return purged
