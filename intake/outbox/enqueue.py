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
    """Add an entry; payloads must be content-free or already sealed."""
    entry = OutboxEntry(
        kind=kind,
        payload=json.dumps(dict(payload), sort_keys=True, separators=(",", ":")),
        dedupe_key=dedupe_key,
        available_at=available_at or utcnow(),
    )
    session.add(entry)
    return entry
