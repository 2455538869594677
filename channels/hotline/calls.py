"""Call ids, remembered only as keyed hashes, so a call is stored once.

The record (`HotlineCall`) is added inside the case's own transaction (the
reports service's `on_stored` hook): a case never exists without its call id, nor a
call id without its case. Used by transcript import (the call centre's id)
and by the console (a one-time token of each form, against double submits).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from channels.hotline.models import HotlineCall
from intake.context import AppContext
from intake.models import utcnow
from intake.reports.submission import Accepted, OnStored

CALL_ID_PURPOSE = "call-id"


def call_id_hash(context: AppContext, call_id: str) -> bytes:
    return context.secret.keyed_hash(CALL_ID_PURPOSE, call_id.encode("utf-8"))


def is_recorded(context: AppContext, digest: bytes) -> bool:
    with context.sessions() as session:
        return session.get(HotlineCall, digest) is not None


def record(digest: bytes) -> OnStored:
    """The `on_stored` hook that stores the call id with its case."""

    def add(session: Session, accepted: Accepted) -> None:
        # To the minute, like the case's received_at: the row names the case.
        minute = utcnow().replace(second=0, microsecond=0)
        session.add(HotlineCall(call_id_hash=digest, case_id=accepted.case_id, imported_at=minute))

    return add
