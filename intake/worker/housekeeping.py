"""Each pass forgets what has outlived its purpose.

Expired rate counters (and so the source hashes they hold), idle SMS
conversations with their sealed drafts, and stored SMS replies past their
time (channels.sms_store owns those rules).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from channels.sms_store import purge_expired_conversations
from intake import ratelimit


def purge_expired(session: Session, *, now: datetime) -> int:
    """Rows deleted or cleared, in the caller's transaction."""
    return ratelimit.purge_expired(session, now) + purge_expired_conversations(session, now)
