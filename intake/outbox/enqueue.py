"""Enqueue work that leaves the request; it commits with the use case's transaction."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy.orm import Session

from intake.models import OutboxEntry, utcnow


def enqueue(
    session: Session,
    kind: str,
    payload: Mapping[str, object],
    *,
    dedupe_key: str | None = None,
    available_at: datetime | None = None,
) -> OutboxEntry:
    """Add an entry; payloads must be content-free or already sealed.

    Times are kept to the minute: an alert names its case, and a precise
    creation time would date the report (SPEC 15 keeps cases to the minute).
    """
    minute = utcnow().replace(second=0, microsecond=0)
    entry = OutboxEntry(
        kind=kind,
        payload=json.dumps(dict(payload), sort_keys=True, separators=(",", ":")),
        dedupe_key=dedupe_key,
        created_at=minute,
        available_at=available_at or minute,
    )
    session.add(entry)
    return entry
