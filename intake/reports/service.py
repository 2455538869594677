"""The intake pipeline every channel calls (DESIGN "Data flow").

validate (the caller hands a `ReportIn`) -> decide the route -> receipt (made ahead, or KDF) ->
seal -> one transaction (case, recipients, routed event, audit entry, outbox)
-> commit -> only then the receipt goes back. Plaintext lives only in this
request's memory.

Times: a case is received at the whole minute (SPEC 15) and every time stored
with it (routed event, recipients, due_at) follows from that minute, so the
database does not date a report to the second for whoever can match it
against a network or Twilio log. The "report accepted" log line names no case.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crypto.envelope import case_aad, seal
from crypto.errors import CryptoError
from crypto.receipt import ReceiptKeys, format_receipt
from intake import ratelimit
from intake.audit import trail as audit
from intake.context import AppContext
from intake.errors import ServiceUnavailable, TooManyRequests
from intake.models import Case, CaseEvent, CaseRecipient, utcnow
from intake.outbox.notifications import enqueue_alerts
from intake.reports.receipts import fresh_receipt
from intake.reports.schemas import ReportIn
from intake.reports.submission import Accepted, Submission
from intake.routing_tables.store import ActiveTable
from intake.settings import RateLimit
from routing.engine import Decision, Facts, decide
from routing.table import RoutingTable

log = logging.getLogger("intake.reports")
REPORT_SCOPE = "report"
GLOBAL_SCOPE = "report-global"  # INTAKE_REPORT_GLOBAL_LIMIT: accepted reports of every source
_REF_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U


def new_case_ref() -> str:
    return "C-" + "".join(secrets.choice(_REF_ALPHABET) for _ in range(12))


def submit(context: AppContext, submission: Submission) -> Accepted:
    """Store one report durably and return its receipt (after the commit)."""
    now = utcnow()
    _refuse_when_over_limit(context, submission, now)
    active = _active_table(context)
    decision = decide(active.table, _facts(submission.report))
    for _attempt in range(3):
        receipt, keys = fresh_receipt(context)
        try:
            case = _store(context, submission, active, decision, keys, now, receipt)
        except IntegrityError:
            continue  # a receipt or case_ref collision: astronomically rare; draw again
        log.info("report accepted", extra={"channel": case.channel})
        return Accepted(case.case_ref, format_receipt(receipt), case.status, case.due_at, case.id)
    raise ServiceUnavailable("The report could not be stored; please try again.")


def received_minute(moment: datetime) -> datetime:
    """The time a case is stored and shown with: the whole minute, seconds zero."""
    return moment.replace(second=0, microsecond=0)


def _limits(context: AppContext, submission: Submission) -> list[tuple[str, bytes, RateLimit]]:
    """The counters a report counts against: its source's, and every report's together."""
    settings = context.settings
    limits = [(GLOBAL_SCOPE, ratelimit.GLOBAL_SOURCE, settings.report_global_rate)]
    if submission.source is not None:
        limits.append((REPORT_SCOPE, submission.source, settings.report_rate))
    return [entry for entry in limits if entry[2].enabled]


def _refuse_when_over_limit(context: AppContext, submission: Submission, now: datetime) -> None:
    """429 before any work when a limit is already reached (checked again in the commit)."""
    limits = _limits(context, submission)
    if not limits:
        return
    with context.sessions() as session:
        for scope, source, limit in limits:
            if ratelimit.is_over(session, scope, source, limit, now):
                raise TooManyRequests(ratelimit.retry_after(limit, now))


def _active_table(context: AppContext) -> ActiveTable:
    with context.sessions() as session:
        return context.routing.active(session)


def _facts(report: ReportIn) -> Facts:
    return Facts(
        country=report.country,
        category=report.category,
        affiliation=report.affiliation,
        child=report.victim_is_child,
    )


def _store(
    context: AppContext,
    submission: Submission,
    active: ActiveTable,
    decision: Decision,
    keys: ReceiptKeys,
    now: datetime,
    receipt: str,
) -> Case:
    case_ref = new_case_ref()
    table = active.table
    envelope_text = _sealed(submission, table, decision, case_ref)

    def write(session: Session) -> Case:
        _count_report(context, session, submission, now)
        received = received_minute(now)
        case = _new_case(submission, case_ref, active, decision, keys, envelope_text, received)
        session.add(case)
        session.flush()
        session.add(CaseEvent(case_id=case.id, type="routed", at=received, actor=submission.actor))
        audit.append(
            session,
            actor=submission.actor,
            action="case.created",
            case_ref=case_ref,
            detail={
                "channel": submission.channel,
                "rule": decision.rule_id,
                "table_version": decision.table_version,
                "envelope_sha256": case.envelope_sha256,
            },
        )
        _notify_recipients(session, table, case)
        if submission.on_stored is not None:
            accepted = Accepted(
                case.case_ref, format_receipt(receipt), case.status, case.due_at, case.id
            )
            submission.on_stored(session, accepted)
        return case

    return context.writer.run(write)


def _sealed(submission: Submission, table: RoutingTable, decision: Decision, case_ref: str) -> str:
    """The envelope (SPEC 5) of the sealed fields; a 503 when the keys cannot take it."""
    content = {**submission.report.sealed_content(), **submission.sealed_extra}
    try:
        envelope = seal(
            content,
            public_keys=[*table.public_keys_for(decision.recipients), *table.escrow_keys],
            aad=case_aad(case_ref),
        )
    except CryptoError:
        raise ServiceUnavailable("The report could not be sealed; nothing was stored.") from None
    return json.dumps(envelope, separators=(",", ":"))


def _count_report(
    context: AppContext, session: Session, submission: Submission, now: datetime
) -> None:
    for scope, source, limit in _limits(context, submission):
        if ratelimit.record(session, scope, source, limit, now) > limit.count:
            raise TooManyRequests(ratelimit.retry_after(limit, now))  # rolls the report back


def _new_case(
    submission: Submission,
    case_ref: str,
    active: ActiveTable,
    decision: Decision,
    keys: ReceiptKeys,
    envelope_text: str,
    now: datetime,
) -> Case:
    report = submission.report
    return Case(
        case_ref=case_ref,
        channel=submission.channel,
        reporter_type=report.reporter_type,
        language=submission.language,
        country=report.country,
        category=report.category,
        affiliation=report.affiliation,
        victim_is_child=report.victim_is_child,
        consent_contact_me=report.consent.contact_me,
        consent_share_with_investigators=report.consent.share_with_investigators,
        consent_refer_to_services=report.consent.refer_to_services,
        received_at=now,
        updated_at=now,
        status="routed",
        due_at=decision.due_at(now),
        rule_id=decision.rule_id,
        table_version=decision.table_version,
        routing_table_id=active.row_id,
        envelope=envelope_text,
        envelope_sha256=hashlib.sha256(envelope_text.encode("utf-8")).hexdigest(),
        receipt_lookup=keys.lookup,
        receipt_public_key=keys.keypair.public_key,
        recipients=[
            CaseRecipient(focal_point_id=focal_point, position=index, added_at=now)
            for index, focal_point in enumerate(decision.recipients)
        ],
    )


def _notify_recipients(session: Session, table: RoutingTable, case: Case) -> None:
    """Content-free alerts to each recipient's `notify` addresses, via the outbox."""
    for recipient in case.recipients:
        focal_point = table.focal_point(recipient.focal_point_id)
        enqueue_alerts(
            session,
            case_ref=case.case_ref,
            focal_point=recipient.focal_point_id,
            addresses=focal_point.notify if focal_point else (),
            event="new_case",
            due_at=case.due_at,
        )
