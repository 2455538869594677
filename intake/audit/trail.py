"""The audit trail: append-only, each entry's hash keyed and covering the previous hash.

Appends take the chain head (`system_values.audit_head`) with a row lock, so
concurrent transactions on PostgreSQL extend one chain instead of forking it
(SQLite's BEGIN IMMEDIATE already serialises writers). Details are
content-free: ids, codes and envelope hashes, never sealed values.

Keyed (SPEC 15): an entry's hash is BLAKE2b keyed with the `audit-chain`
sub-key of the server secret (`hash_version` 2), so rewriting the chain needs
the secret file as well as the database. Entries written before that upgrade
keep their plain SHA-256 (`hash_version` 1) and verify as before; the first
keyed entry covers the last of them, and an unkeyed entry after the upgrade
point (`audit_legacy_until`) is reported. What the chain cannot show alone —
a rebuild by someone holding the secret, or a cut-off tail — a head kept
outside the database shows (`head()`, `intake audit verify --head`).

Sessions carry the secret in `Session.info` (`intake.db.make_sessionmaker`).
Timestamps are kept to the whole minute: the trail orders entries by `seq`,
and a precise time next to a case reference would date the report.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto.server_secret import ServerSecret
from intake.db import AUDIT_SECRET_INFO as SECRET_INFO
from intake.db import in_batch, insert_rows
from intake.models import AuditEvent, SystemValue, utcnow

HEAD = "audit_head"
LEGACY_UNTIL = "audit_legacy_until"
GENESIS = "0" * 64
PURPOSE = "audit-chain"
UNKEYED, KEYED = 1, 2


class NoAuditKey(RuntimeError):
    """A session without the server secret tried to extend the trail (a bug, not input)."""


def secret_of(session: Session) -> ServerSecret | None:
    secret = session.info.get(SECRET_INFO)
    return secret if isinstance(secret, ServerSecret) else None


def entry_hash(
    *,
    prev_hash: str,
    at: datetime,
    actor: str,
    action: str,
    case_ref: str | None,
    detail: str,
    secret: ServerSecret | None,
) -> str:
    """Keyed with `secret` (version 2); plain SHA-256 without it (version 1, legacy)."""
    canonical = json.dumps(
        [prev_hash, at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), actor, action, case_ref, detail],
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode("utf-8")
    if secret is None:
        return hashlib.sha256(canonical).hexdigest()
    return secret.keyed_hash(PURPOSE, canonical).hex()


def append(
    session: Session,
    *,
    actor: str,
    action: str,
    case_ref: str | None = None,
    detail: Mapping[str, object] | None = None,
) -> None:
    secret = secret_of(session)
    if secret is None:
        raise NoAuditKey("audit entries need a session made with the server secret")
    head = _locked_head(session)
    prev_hash = head.value.decode("ascii")
    at = utcnow().replace(second=0, microsecond=0)
    detail_text = json.dumps(dict(detail or {}), sort_keys=True, separators=(",", ":"))
    digest = entry_hash(
        prev_hash=prev_hash,
        at=at,
        actor=actor,
        action=action,
        case_ref=case_ref,
        detail=detail_text,
        secret=secret,
    )
    row = {
        "at": at,
        "actor": actor,
        "action": action,
        "case_ref": case_ref,
        "detail": detail_text,
        "prev_hash": prev_hash,
        "hash": digest,
        "hash_version": KEYED,
    }
    head.value = digest.encode("ascii")
    # A plain row: in a writer's batch one executemany for every entry, in chain order.
    insert_rows(session, AuditEvent.__table__, lambda: [row])


@dataclass(frozen=True)
class Break:
    entry_id: int
    reason: str


@dataclass(frozen=True)
class Head:
    seq: int
    hash: str
    at: datetime


_HEAD = select(SystemValue).where(SystemValue.name == HEAD).with_for_update()
_HEAD_INFO = "intake.audit.head"  # Session.info: the head row, locked, in a writer's batch


def _locked_head(session: Session) -> SystemValue:
    """The chain head, locked until commit; read once per batch of the group-commit writer."""
    if in_batch(session):
        cached = session.info.get(_HEAD_INFO)
        if isinstance(cached, SystemValue):
            return cached
    head = session.scalars(_HEAD).one()
    if in_batch(session):
        session.info[_HEAD_INFO] = head
    return head


def head(session: Session) -> Head | None:
    """The newest entry (None for an empty trail): keep `seq:hash` outside the database."""
    event = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).first()
    return None if event is None else Head(event.id, event.hash, event.at)


def check_head(session: Session, *, seq: int, digest: str) -> Break | None:
    """A head kept outside: that entry must still be there, unchanged."""
    event = session.get(AuditEvent, seq)
    if event is None:
        return Break(seq, "the recorded head is missing (the trail was cut or rebuilt)")
    if event.hash != digest:
        return Break(seq, "differs from the recorded head (the trail was rebuilt)")
    return None


def verify(session: Session) -> Break | None:
    """The first broken entry of the chain, or None when it is whole."""
    secret = secret_of(session)
    legacy_until = _legacy_until(session)
    expected_prev, last_id, last_version = GENESIS, 0, UNKEYED
    for event in _in_order(session):
        problem = _entry_problem(event, expected_prev, last_version, legacy_until, secret)
        if problem is not None:
            return Break(event.id, problem)
        expected_prev, last_id, last_version = event.hash, event.id, event.hash_version
    stored = session.get(SystemValue, HEAD)
    if stored is None or stored.value.decode("ascii") != expected_prev:
        return Break(last_id + 1, "entries after this point were removed")
    return None


def _entry_problem(
    event: AuditEvent,
    expected_prev: str,
    last_version: int,
    legacy_until: int,
    secret: ServerSecret | None,
) -> str | None:
    if event.prev_hash != expected_prev:
        return "does not follow the previous entry (removed or reordered)"
    if event.hash_version not in (UNKEYED, KEYED):
        return "has an unknown hash version"
    if event.hash_version == UNKEYED and (last_version == KEYED or event.id > legacy_until):
        return "is not keyed with the server secret (rewritten without it)"
    if event.hash_version == KEYED and secret is None:
        return "is keyed, and the server secret is not available to check it"
    recomputed = entry_hash(
        prev_hash=event.prev_hash,
        at=event.at,
        actor=event.actor,
        action=event.action,
        case_ref=event.case_ref,
        detail=event.detail,
        secret=secret if event.hash_version == KEYED else None,
    )
    return None if recomputed == event.hash else "its content was changed"


def _legacy_until(session: Session) -> int:
    """The last entry written before keying; a missing or damaged marker allows none."""
    stored = session.get(SystemValue, LEGACY_UNTIL)
    try:
        return int(stored.value.decode("ascii")) if stored is not None else 0
    except (UnicodeDecodeError, ValueError):
        return 0


def _in_order(session: Session) -> Iterator[AuditEvent]:
    yield from session.scalars(select(AuditEvent).order_by(AuditEvent.id)).yield_per(500)
