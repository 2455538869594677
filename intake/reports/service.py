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
from dataclasses import dataclass
from datetime import datetime

from babel.support import NullTranslations
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crypto.envelope import b64e, case_aad, kid_of, seal
from crypto.errors import CryptoError
from crypto.receipt import ReceiptKeys, format_receipt
from intake import i18n, ratelimit
from intake.audit import trail as audit
from intake.context import AppContext
from intake.db import in_batch, insert_rows, reading
from intake.errors import ServiceUnavailable, TooManyRequests
from intake.models import Case, CaseEvent, CaseRecipient, utcnow
from intake.outbox.notifications import alert_focal_point
from intake.reports import prepared as prepared_tokens
from intake.reports.receipts import fresh_receipt
from intake.reports.schemas import ClearFieldsIn, ReportIn
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
    """C- and 12 random Crockford base32 characters (60 bits)."""
    value = secrets.randbits(60)
    return "C-" + "".join(_REF_ALPHABET[(value >> shift) & 31] for shift in range(55, -1, -5))


def submit(context: AppContext, submission: Submission) -> Accepted:
    """Store one report durably and return its receipt (after the commit)."""
    now = utcnow()
    with reading(context.sessions) as session:  # one snapshot for every check before the write
        _refuse_when_over_limit(context, session, submission.source, now)
        active = _active_table(context, session)
        decision = decide(active.table, _facts(submission.report))
        if submission.presealed is not None:
            _check_presealed(session, submission, submission.presealed, active.table, decision)
    for _attempt in range(3):
        receipt, keys = fresh_receipt(context)
        try:
            case = _store(context, submission, active, decision, keys, now, receipt)
        except IntegrityError:
            continue  # a receipt or case_ref collision: astronomically rare; draw again
        log.info("report accepted", extra={"channel": case.channel})
        return Accepted(case.case_ref, format_receipt(receipt), case.status, case.due_at, case.id)
    raise ServiceUnavailable("The report could not be stored; please try again.")


@dataclass(frozen=True)
class RouteKey:
    kid: str
    public_key: str  # base64 of the raw 32 bytes, as elsewhere in the API


@dataclass(frozen=True)
class PreparedRoute:
    """A decision made ahead of a report sealed elsewhere (SPEC 11); nothing stored."""

    case_ref: str
    decision: Decision
    keys: tuple[RouteKey, ...]
    now: datetime


def prepare_route(
    context: AppContext, fields: ClearFieldsIn, *, source: bytes | None
) -> PreparedRoute:
    """The case_ref and keys a browser seals to: the same limits and decision as `submit`.

    Refused (429) when a report from this source would be; counts nothing,
    since only an accepted report counts.
    """
    now = utcnow()
    with reading(context.sessions) as session:
        _refuse_when_over_limit(context, session, source, now)
        active = _active_table(context, session)
    decision = decide(active.table, _facts(fields))
    keys = prepared_tokens.decision_keys(active.table, decision)
    route_keys = tuple(RouteKey(kid=kid_of(key), public_key=b64e(key)) for key in keys)
    return PreparedRoute(new_case_ref(), decision, route_keys, now)


def received_minute(moment: datetime) -> datetime:
    """The time a case is stored and shown with: the whole minute, seconds zero."""
    return moment.replace(second=0, microsecond=0)


def _limits(context: AppContext, source: bytes | None) -> list[tuple[str, bytes, RateLimit]]:
    """The counters a report counts against: its source's, and every report's together."""
    settings = context.settings
    limits = [(GLOBAL_SCOPE, ratelimit.GLOBAL_SOURCE, settings.report_global_rate)]
    if source is not None:
        limits.append((REPORT_SCOPE, source, settings.report_rate))
    return [entry for entry in limits if entry[2].enabled]


def _refuse_when_over_limit(
    context: AppContext, session: Session, source: bytes | None, now: datetime
) -> None:
    """429 before any work when a limit is already reached (checked again in the commit)."""
    for scope, counted, limit in _limits(context, source):
        if ratelimit.is_over(session, scope, counted, limit, now):
            raise TooManyRequests(ratelimit.retry_after(limit, now))


def _check_presealed(
    session: Session,
    submission: Submission,
    presealed: prepared_tokens.Presealed,
    table: RoutingTable,
    decision: Decision,
) -> None:
    """SPEC 11: still the signed decision, and not used yet (checked again in the commit)."""
    translations = _translations(submission)
    kids = prepared_tokens.kids_of(prepared_tokens.decision_keys(table, decision))
    prepared_tokens.check_decision(presealed.prepared, decision, kids, translations)
    if prepared_tokens.was_used(session, presealed):
        raise prepared_tokens.refusal("prepared_used", ["prepared"], translations)


def _translations(submission: Submission) -> NullTranslations:
    return i18n.translations_for(i18n.negotiate_locale(submission.language, None))


def _active_table(context: AppContext, session: Session) -> ActiveTable:
    return context.routing.active(session)


def _facts(report: ClearFieldsIn) -> Facts:
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
    table = active.table
    presealed = submission.presealed
    if presealed is None:
        case_ref = new_case_ref()
        envelope_text = _sealed(submission, table, decision, case_ref)
    else:  # sealed in the reporter's browser to this case_ref: the server never sees it
        case_ref, envelope_text = presealed.prepared.case_ref, presealed.envelope_text

    def write(session: Session) -> Case:
        _count_report(context, session, submission, now)
        if presealed is not None:
            prepared_tokens.mark_used(session, presealed, _translations(submission))
        received = received_minute(now)
        case = _new_case(submission, case_ref, active, decision, keys, envelope_text, received)
        session.add(case)
        _add_first_rows(session, case, decision, received, submission.actor)
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
        _notify_recipients(session, table, case, decision)
        if submission.on_stored is not None:
            session.flush()  # the channel's rows need case.id
            accepted = Accepted(
                case.case_ref, format_receipt(receipt), case.status, case.due_at, case.id
            )
            submission.on_stored(session, accepted)
        return case

    return context.writer.run(write)


def _sealed(submission: Submission, table: RoutingTable, decision: Decision, case_ref: str) -> str:
    """The envelope (SPEC 5) of the sealed fields; a 503 when the keys cannot take it."""
    report = submission.report
    if not isinstance(report, ReportIn):  # a channel bug, not bad input
        raise TypeError("a submission without sealed fields needs its presealed envelope")
    content = {**report.sealed_content(), **submission.sealed_extra}
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
    for scope, source, limit in _limits(context, submission.source):
        if in_batch(session):
            ratelimit.record_at_batch_end(session, scope, source, limit, now)
        elif ratelimit.record(session, scope, source, limit, now) > limit.count:
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
    )


def _add_first_rows(
    session: Session, case: Case, decision: Decision, received: datetime, actor: str | None
) -> None:
    """The case's recipients and its routed event (rows of a batch: see `insert_rows`)."""
    insert_rows(
        session,
        CaseRecipient.__table__,
        lambda: [
            {
                "case_id": case.id,
                "focal_point_id": focal_point,
                "position": index,
                "added_at": received,
            }
            for index, focal_point in enumerate(decision.recipients)
        ],
    )
    insert_rows(
        session,
        CaseEvent.__table__,
        lambda: [{"case_id": case.id, "type": "routed", "at": received, "actor": actor}],
    )


def _notify_recipients(
    session: Session, table: RoutingTable, case: Case, decision: Decision
) -> None:
    """Content-free alerts to each recipient's `notify` addresses, via the outbox."""
    for focal_point in decision.recipients:
        alert_focal_point(session, table, case, focal_point, "new_case")
