"""Retention (SPEC 12): destroy the content of closed cases past their period.

The active routing table's `[retention] closed_days` says how many whole days
a closed case of each category keeps its content after its `closed` event
(`"*"` for the categories not named; no section, or no entry that covers a
category: kept forever). `intake retention run` and the worker's daily pass
call `run_retention`.

Every column that holds ciphertext linked to a case, and what shredding does:
- `cases.envelope` (the report, SPEC 5): emptied; `envelope_sha256` becomes
  the hash of the empty text, recorded by the `case.shredded` audit entry so
  that `intake audit verify` still matches every case with the trail.
- `case_messages.sealed_for_reporter`, `.envelope` (focal point messages and
  reporter replies, SPEC 10 and 16): rows deleted.
- `case_attachments.envelope` (a spoken account's sealed audio, SPEC 17):
  rows deleted.
- `case_events.detail` `override_reason_sealed` (a referral override's
  reason, an envelope): that key removed, the clear details kept.
- the channels' own rows, each through its `ChannelHooks.shred_case`, called
  before the core deletes the messages: the SMS reply route
  (`sms_reply_routes.route_sealed`) and the queued SMS answers
  (`outbox` `sms_reply` rows: number and text sealed with the draft key).
Not linked to a case, each with its own short life and purge: SMS drafts
(`sms_conversations.draft_sealed`, deleted when the report is stored or
after idling), stored SMS replies (`processed_messages.reply_sealed`, 15
minutes), voice call state (`voice_calls`, `voice_answers`, minutes), the
voice recording's outbox entry (the Twilio SIDs sealed, no content; it stays
so that the recording is still deleted at Twilio, and finds no attachment
to fill). Kept: the clear metadata, recipients, events, the receipt's lookup
value (follow-up still answers the status) and public key, the audit trail.

One transaction per case; a case is taken with `FOR UPDATE SKIP LOCKED` and
only while `shredded_at` is null, so several workers shred it once.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, delete, exists, false, func, or_, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from intake.audit import trail as audit
from intake.context import AppContext, ChannelHooks
from intake.db import is_sqlite, transaction
from intake.models import Base, Case, CaseAttachment, CaseEvent, CaseMessage
from routing.entries import ANY, Retention

log = logging.getLogger("intake.cases.retention")
ACTION = "case.shredded"
BATCH = 100
SHREDDED_ENVELOPE = ""
SHREDDED_SHA256 = hashlib.sha256(SHREDDED_ENVELOPE.encode("utf-8")).hexdigest()
SEALED_EVENT_FIELDS = ("override_reason_sealed",)
CORE_TABLES = ("cases", "case_messages", "case_attachments", "case_events")


@dataclass
class RetentionReport:
    """Cases shredded (or, in a dry run, that would be) by category."""

    by_category: Counter[str] = field(default_factory=Counter)
    tables: set[str] = field(default_factory=set)

    @property
    def total(self) -> int:
        return sum(self.by_category.values())


def past_period(retention: Retention, now: datetime) -> ColumnElement[bool]:
    """Closed, not yet shredded, and closed at least its category's days before `now`."""

    def closed_by(cutoff: datetime) -> ColumnElement[bool]:
        return exists().where(
            CaseEvent.case_id == Case.id, CaseEvent.type == "closed", CaseEvent.at <= cutoff
        )

    named = {name: days for name, days in retention.closed_days.items() if name != ANY}
    clauses = [
        and_(Case.category == name, closed_by(now - timedelta(days=days)))
        for name, days in named.items()
    ]
    default = retention.closed_days.get(ANY)
    if default is not None:
        others = Case.category.not_in(list(named)) if named else Case.id.is_not(None)
        clauses.append(and_(others, closed_by(now - timedelta(days=default))))
    matched = or_(*clauses) if clauses else false()
    return and_(Case.status == "closed", Case.shredded_at.is_(None), matched)


def due_counts(session: Session, retention: Retention, now: datetime) -> Counter[str]:
    rows = session.execute(
        select(Case.category, func.count())
        .where(past_period(retention, now))
        .group_by(Case.category)
    )
    return Counter({category: int(count) for category, count in rows})


def shred_case(
    session: Session, case: Case, channels: Iterable[ChannelHooks], *, actor: str, now: datetime
) -> set[str]:
    """Destroy one case's content in the caller's transaction; the tables touched."""
    tables = set(CORE_TABLES)
    for channel in channels:  # first: a channel may find its rows through the messages
        tables.update(channel.shred_case(session, case))
    messages = session.execute(delete(CaseMessage).where(CaseMessage.case_id == case.id))
    attachments = session.execute(delete(CaseAttachment).where(CaseAttachment.case_id == case.id))
    _strip_sealed_event_details(session, case)
    session.expire(case, ["attachments"])
    case.envelope = SHREDDED_ENVELOPE
    case.envelope_sha256 = SHREDDED_SHA256
    case.shredded_at = now.replace(second=0, microsecond=0)  # to the minute, like the trail
    case.reply_unseen = False
    session.flush()
    audit.append(
        session,
        actor=actor,
        action=ACTION,
        case_ref=case.case_ref,
        detail={
            "envelope_sha256": SHREDDED_SHA256,
            "messages": int(getattr(messages, "rowcount", 0) or 0),
            "attachments": int(getattr(attachments, "rowcount", 0) or 0),
        },
    )
    return tables


def _strip_sealed_event_details(session: Session, case: Case) -> None:
    events = session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.detail.is_not(None))
    )
    for event in events:
        detail = json.loads(event.detail or "{}")
        if isinstance(detail, dict) and any(name in detail for name in SEALED_EVENT_FIELDS):
            kept = {k: v for k, v in detail.items() if k not in SEALED_EVENT_FIELDS}
            event.detail = json.dumps(kept, sort_keys=True)


def _take(session: Session, case_id: int, retention: Retention, now: datetime) -> Case | None:
    """The case, locked, if it is still due (another worker may have shredded it)."""
    return session.scalars(
        select(Case)
        .where(Case.id == case_id, past_period(retention, now))
        .with_for_update(skip_locked=True)
    ).first()


def _candidates(context: AppContext, retention: Retention, now: datetime, after: int) -> list[int]:
    with context.sessions() as session:
        return list(
            session.scalars(
                select(Case.id)
                .where(past_period(retention, now), Case.id > after)
                .order_by(Case.id)
                .limit(BATCH)
            )
        )


def active_retention(context: AppContext) -> Retention | None:
    with context.sessions() as session:
        table = context.routing.active_or_none(session)
    return None if table is None else table.retention


def run_retention(
    context: AppContext, *, now: datetime, actor: str, dry_run: bool = False
) -> RetentionReport:
    """Shred every case past its period (or only count them); then free the bytes."""
    report = RetentionReport()
    retention = active_retention(context)
    if retention is None:
        return report
    if dry_run:
        with context.sessions() as session:
            report.by_category = due_counts(session, retention, now)
        return report
    after = 0
    while ids := _candidates(context, retention, now, after):
        for case_id in ids:
            with transaction(context.sessions) as session:
                case = _take(session, case_id, retention, now)
                if case is not None:
                    report.tables |= shred_case(
                        session, case, context.channels, actor=actor, now=now
                    )
                    report.by_category[case.category] += 1
                    log.info("case shredded", extra={"case_ref": case.case_ref})
        after = ids[-1]
    reclaim_space(context, report.tables)  # SQLite: also a checkpoint an earlier pass missed
    return report


def reclaim_space(context: AppContext, tables: Collection[str]) -> None:
    """Make the shredded bytes leave the files, as far as the database allows.

    SQLite: `secure_delete` (on for every connection, `intake.db`) zeroes the
    freed cells and pages; a TRUNCATE checkpoint then copies them into the
    main file and empties the WAL, which still held the old pages. PostgreSQL:
    a plain VACUUM (outside any transaction) removes the dead row versions so
    their space is reused; docs/retention.md says what it cannot promise.
    """
    engine = context.engine
    if is_sqlite(str(engine.url)):
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            busy = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            cursor.close()
        finally:
            raw.close()
        if busy is not None and busy[0]:
            log.warning("wal checkpoint busy; the next pass checkpoints again")
        return
    if not tables:
        return
    names = sorted(name for name in tables if name in Base.metadata.tables)  # ours only
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            for name in names:
                connection.exec_driver_sql(f'VACUUM "{name}"')
    except SQLAlchemyError:
        # The shreds are committed; a role that may not VACUUM leaves it to autovacuum.
        log.warning("vacuum after retention failed; autovacuum will reclaim the space")
