"""Does every case's envelope match what the audit trail recorded?

The audit chain (`intake.audit.verify`) proves no entry was edited or removed.
This adds the cases themselves: an envelope is written only by entries in
`ENVELOPE_WRITES`, each recording the new envelope's SHA-256. So:
- a case's stored envelope must hash to its `envelope_sha256`;
- that hash must be the one the case's latest writing entry recorded;
- every read entry must have seen the hash the latest write before it set.
A swapped envelope (with or without its hash column) therefore shows, even
if someone has read the case since.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.models import AuditEvent, Case

# `case.shredded` (retention, SPEC 12) writes the empty envelope and records its hash.
ENVELOPE_WRITES = frozenset({"case.created", "case.recipient_added", "case.shredded"})
HASH_FIELD = "envelope_sha256"


@dataclass(frozen=True)
class Mismatch:
    entry_id: int | None  # the audit entry the finding is about, when there is one
    case_ref: str
    reason: str

    def line(self) -> str:
        where = f"audit entry {self.entry_id}" if self.entry_id is not None else "no audit entry"
        return f"{where}, case {self.case_ref}: {self.reason}"


def verify_envelopes(session: Session) -> Mismatch | None:
    """The first mismatch between cases and the audit trail, or None."""
    latest: dict[str, tuple[int, str]] = {}  # case_ref -> (entry id, hash it wrote)
    entries = session.execute(
        select(AuditEvent.id, AuditEvent.action, AuditEvent.case_ref, AuditEvent.detail)
        .where(AuditEvent.case_ref.is_not(None))
        .order_by(AuditEvent.id)
    ).yield_per(1000)
    for entry_id, action, case_ref, detail in entries:
        recorded = _recorded_hash(detail)
        if recorded is None or case_ref is None:
            continue
        if action in ENVELOPE_WRITES:
            latest[case_ref] = (entry_id, recorded)
        elif case_ref in latest and latest[case_ref][1] != recorded:
            return Mismatch(entry_id, case_ref, "a reader saw an envelope no recorded change made")
    cases = session.execute(
        select(Case.case_ref, Case.envelope, Case.envelope_sha256).order_by(Case.id)
    ).yield_per(500)
    for case_ref, envelope, stored_hash in cases:
        written = latest.get(case_ref)
        if written is None:
            return Mismatch(None, case_ref, "no audit entry records its envelope")
        if hashlib.sha256(envelope.encode("utf-8")).hexdigest() != stored_hash:
            return Mismatch(written[0], case_ref, "the stored envelope does not match its hash")
        if stored_hash != written[1]:
            return Mismatch(written[0], case_ref, "the envelope differs from the one recorded")
    return None


def _recorded_hash(detail: str) -> str | None:
    try:
        parsed = json.loads(detail)
    except ValueError:
        return None
    value = parsed.get(HASH_FIELD) if isinstance(parsed, dict) else None
    return value if isinstance(value, str) else None
