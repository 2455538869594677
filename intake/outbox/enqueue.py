"""Enqueue work that leaves the request; it commits with the use case's transaction."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from intake.db import insert_rows
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
    entry = OutboxEntry(**entry_values(kind, payload, dedupe_key, available_at))
    session.add(entry)
    return entry


def enqueue_many(session: Session, entries: list[dict[str, Any]]) -> None:
    """Add entries made by `entry_values`, as plain rows (one executemany in a writer's batch)."""
    if entries:
        insert_rows(session, OutboxEntry.__table__, lambda: entries)


def entry_values(
    kind: str,
    payload: Mapping[str, object],
    dedupe_key: str | None = None,
    available_at: datetime | None = None,
) -> dict[str, Any]:
    minute = utcnow().replace(second=0, microsecond=0)
    return {
        "kind": kind,
        "payload": json.dumps(dict(payload), sort_keys=True, separators=(",", ":")),
        "dedupe_key": dedupe_key,
        "created_at": minute,
        "available_at": available_at or minute,
    }
