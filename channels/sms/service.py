"""One inbound SMS, processed exactly once: state, effects, stored reply, outbox.

Every delivery ends in one transaction that inserts the MessageSid row (its
primary key decides between concurrent deliveries, also across processes),
stores the sealed reply and the conversation change, and enqueues the body's
deletion at Twilio. A delivery whose MessageSid is already there gets the
stored reply and changes nothing.

Effects run outside that transaction because they own theirs: a STATUS
look-up counts failures in its own, and the intake pipeline commits the case
in its own. For the report itself, the MessageSid row, the reply with the
receipt and the end of the conversation are written by `on_stored` inside
the case's transaction, so a crash can never leave a case without its
stored reply, nor a reply without its case.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from channels.sms import store as sms_store
from channels.sms.answers import (
    not_saved_reply,
    receipt_reply,
    reply_result,
    status_failure_reply,
    status_reply,
    unknown_number_reply,
)
from channels.sms.conversation import (
    Line,
    LookUpStatus,
    Outcome,
    SendReply,
    State,
    Step,
    SubmitReport,
    advance,
)
from channels.sms.outbound import REDACT_KIND
from channels.sms.texts import language_of
from crypto.envelope import b64e
from crypto.secretbox import seal_draft
from intake import i18n, ratelimit
from intake.cases.service import CaseShredded
from intake.context import AppContext
from intake.db import transaction
from intake.errors import InvalidInput, NotFound, ServiceUnavailable, TooManyRequests
from intake.followup.replies import REPLY_EMPTY, REPLY_TOO_LONG, TooManyReplies, reply
from intake.followup.service import RECEIPT_INVALID, look_up
from intake.http.pages import agency_codes
from intake.models import utcnow
from intake.outbox.enqueue import enqueue
from intake.reports.schemas import ReportIn
from intake.reports.service import submit
from intake.reports.submission import Accepted, OnStored, Submission
from intake.vocab import Channel

log = logging.getLogger("channels.sms")
CHANNEL: Channel = "sms"
WHATSAPP_PREFIX = "whatsapp:"
_ATTEMPTS = 4


@dataclass(frozen=True, repr=False)
class Inbound:
    """What the webhook hands over: never logged, never stored in clear."""

    message_sid: str
    sender: str  # `From` as Twilio sent it (a `whatsapp:` prefix stays, for replies)
    receiver: str  # `To`: our own number
    text: str


class _AlreadyProcessed(Exception):
    """A concurrent delivery of the same MessageSid committed first."""


class _Changed(Exception):
    """The conversation moved on between reading it and submitting it."""


def bare_number(address: str) -> str:
    """`whatsapp:+254...` -> `+254...`; plain numbers stay as they are."""
    return address.removeprefix(WHATSAPP_PREFIX)


def handle(context: AppContext, inbound: Inbound) -> tuple[str, ...]:
    """The replies to one delivery, processing it only the first time it arrives."""
    key = sms_store.sender_key(context.secret, inbound.sender)
    for _attempt in range(_ATTEMPTS):
        try:
            replies = _attempt_once(context, inbound, key)
        except IntegrityError:
            continue  # a concurrent delivery or first message won the key; look again
        if replies is not None:
            return replies
    raise ServiceUnavailable("The message could not be processed; please try again.")


def _attempt_once(context: AppContext, inbound: Inbound, key: bytes) -> tuple[str, ...] | None:
    now = utcnow()
    with transaction(context.sessions) as session:
        line = _line(context, session, inbound.receiver)
        # The conversation's lock comes before the look for a processed message: a concurrent
        # delivery that holds it commits its replies first, and this one then reads them.
        row = sms_store.lock_conversation(session, key) if line is not None else None
        done = sms_store.processed_replies(session, context.secret, inbound.message_sid, now)
        if done is not None:
            log.info("sms message", extra={"channel": CHANNEL, "event": "duplicate"})
            return done
        if line is None:
            replies = (unknown_number_reply(_apology_languages(context)),)
            _finish(context, session, inbound, replies, now)
            log.info("sms message", extra={"channel": CHANNEL, "event": "unknown_number"})
            return replies
        state, expired = sms_store.read_state(context.secret, row, now)
        hours = context.settings.sms_idle_timeout_hours
        outcome = advance(state, inbound.text, line, expired_after_hours=hours if expired else None)
        if outcome.effect is None:
            idle = timedelta(hours=hours)
            sms_store.write_state(
                session, context.secret, key=key, row=row, state=outcome.state, now=now, idle=idle
            )
            _finish(context, session, inbound, outcome.replies, now)
            log.info("sms message", extra={"channel": CHANNEL, "event": _event(outcome)})
            return outcome.replies
        seen = row.draft_sealed if row is not None else None
    if isinstance(outcome.effect, LookUpStatus):
        return _status(context, inbound, key, outcome.language, outcome.effect)
    if isinstance(outcome.effect, SendReply):
        return _send_reply(context, inbound, key, outcome.language, outcome.effect)
    return _submit(context, inbound, key, line, outcome.effect, seen)


def _event(outcome: Outcome) -> str:
    return "stopped" if outcome.state is None else outcome.state.step.value


def _line(context: AppContext, session: Session, receiver: str) -> Line | None:
    table = context.routing.active(session).table
    number = table.number(bare_number(receiver))
    if number is None:
        return None
    shipped = tuple(code for code in dict.fromkeys(number.languages) if code in i18n.SHIPPED)
    return Line(
        number.country,
        shipped or (language_of(context.settings.default_language),),
        tuple(agency_codes(table, number.country)),
    )


def _apology_languages(context: AppContext) -> tuple[str, ...]:
    return (language_of(context.settings.default_language), "en", "fr", "ar", *i18n.SHIPPED)


def _finish(
    context: AppContext,
    session: Session,
    inbound: Inbound,
    replies: tuple[str, ...],
    now: datetime,
) -> None:
    """Mark the delivery processed (sealed replies) and have its body deleted at Twilio.

    The deletion's outbox entry carries the SID sealed with the draft key and is
    deduplicated on the SID's keyed hash: the SID is nowhere in clear.
    """
    sid = inbound.message_sid
    sms_store.record_processed(session, context.secret, sid, replies, now)
    if context.settings.twilio_delete_bodies:
        sealed = b64e(seal_draft(context.secret, sid.encode("ascii")))
        digest = sms_store.sid_key(context.secret, sid).hex()
        enqueue(
            session,
            REDACT_KIND,
            {"message_sid_sealed": sealed},
            dedupe_key=f"{REDACT_KIND}:{digest}",
        )


def _record_only(
    context: AppContext, inbound: Inbound, key: bytes, replies: tuple[str, ...]
) -> tuple[str, ...]:
    """Finish a delivery whose effect changed no conversation (STATUS, a refused report)."""
    now = utcnow()
    with transaction(context.sessions) as session:
        done = sms_store.processed_replies(session, context.secret, inbound.message_sid, now)
        if done is not None:
            return done
        sms_store.delete_expired_conversations(session, now, sender=key)
        _finish(context, session, inbound, replies, now)
    return replies


def _status(
    context: AppContext, inbound: Inbound, key: bytes, language: str, effect: LookUpStatus
) -> tuple[str, ...]:
    source = ratelimit.source_key(context.secret, bare_number(inbound.sender))
    try:
        view = look_up(context, receipt_text=effect.receipt_text, source=source)
    except InvalidInput:
        reply = status_failure_reply(language, reason="invalid")
    except NotFound:
        reply = status_failure_reply(language, reason="unknown")
    except TooManyRequests:
        reply = status_failure_reply(language, reason="limited")
    else:
        theirs = [message for message in view.messages if not message.from_reporter]
        latest = theirs[-1].text if theirs else None  # the reporter's own replies aside
        reply = status_reply(language, view.status, latest)
    log.info("sms message", extra={"channel": CHANNEL, "event": "status"})
    return _record_only(context, inbound, key, (reply,))


_INVALID_REASONS = {RECEIPT_INVALID: "invalid", REPLY_EMPTY: "invalid", REPLY_TOO_LONG: "too_long"}


def _send_reply(
    context: AppContext, inbound: Inbound, key: bytes, language: str, effect: SendReply
) -> tuple[str, ...] | None:
    """REPLY: seal and store the text; the delivery is marked processed in the same
    transaction, so a redelivered MessageSid never stores the reply twice.
    None: a concurrent delivery of the same MessageSid won; look again."""
    source = ratelimit.source_key(context.secret, bare_number(inbound.sender))
    sent = (reply_result(language, reason="sent"),)

    def within(session: Session) -> None:
        now = utcnow()
        done = sms_store.processed_replies(session, context.secret, inbound.message_sid, now)
        if done is not None:
            raise _AlreadyProcessed
        _finish(context, session, inbound, sent, now)

    try:
        reply(
            context,
            receipt_text=effect.receipt_text,
            text=effect.text,
            source=source,
            within=within,
        )
    except _AlreadyProcessed:
        return None
    except InvalidInput as error:
        code = str((error.errors or [{}])[0].get("type", ""))
        answer = reply_result(language, reason=_INVALID_REASONS.get(code, "unreadable"))
    except (NotFound, CaseShredded):  # shredded: nothing of the report is left to answer
        answer = reply_result(language, reason="unknown")
    except TooManyReplies:
        answer = reply_result(language, reason="replies")
    except TooManyRequests:
        answer = reply_result(language, reason="limited")
    else:
        log.info("sms message", extra={"channel": CHANNEL, "event": "reply"})
        return sent
    log.info("sms message", extra={"channel": CHANNEL, "event": "reply_refused"})
    return _record_only(context, inbound, key, (answer,))


def _submit(
    context: AppContext,
    inbound: Inbound,
    key: bytes,
    line: Line,
    effect: SubmitReport,
    seen: bytes | None,
) -> tuple[str, ...] | None:
    """Send the confirmed report through the pipeline; None: look again (lost a race)."""
    state = effect.state
    replies: list[tuple[str, ...]] = []

    def on_stored(session: Session, accepted: Accepted) -> None:
        now = utcnow()
        row = sms_store.lock_conversation(session, key)
        if (
            sms_store.processed_replies(session, context.secret, inbound.message_sid, now)
            is not None
        ):
            raise _AlreadyProcessed
        if row is None or row.step != Step.CONFIRM.value or row.draft_sealed != seen:
            raise _Changed
        reply = (receipt_reply(state.language, accepted.receipt),)
        session.delete(row)
        _finish(context, session, inbound, reply, now)
        if state.contact_me:
            sms_store.keep_reply_route(
                session,
                context.secret,
                accepted.case_id,
                to=inbound.sender,
                sender=inbound.receiver,
            )
        replies[:] = [reply]  # a retried transaction (new receipt) replaces the last one

    try:
        submit(context, _submission(context, inbound, line, state, on_stored))
    except (_AlreadyProcessed, _Changed):
        return None
    except TooManyRequests:
        return _record_only(
            context, inbound, key, (not_saved_reply(state.language, rate_limited=True),)
        )
    except ServiceUnavailable:
        return _record_only(
            context, inbound, key, (not_saved_reply(state.language, rate_limited=False),)
        )
    log.info("sms message", extra={"channel": CHANNEL, "event": "submitted"})
    return replies[0]


def _submission(
    context: AppContext,
    inbound: Inbound,
    line: Line,
    state: State,
    on_stored: OnStored,
) -> Submission:
    """The pipeline's input. The sender's number is sealed into the case, and kept
    (sealed with the draft key) for SMS replies, only when the reporter agreed."""
    contact = bool(state.contact_me)
    return Submission(
        report=_report(state, line),
        channel=CHANNEL,
        language=state.language,
        sealed_extra={"sms_from": bare_number(inbound.sender)} if contact else {},
        source=ratelimit.source_key(context.secret, bare_number(inbound.sender)),
        on_stored=on_stored,
    )


def _report(state: State, line: Line) -> ReportIn:
    named = state.reporter_type == "named"
    return ReportIn.model_validate(
        {
            "reporter_type": "named" if named else "anonymous",
            "language": state.language,
            "country": line.country,
            "category": state.category or "other",
            "affiliation": state.affiliation or "unknown",
            "consent": {"contact_me": bool(state.contact_me)},
            "narrative": state.narrative,
            "reporter": {"name": state.name} if named else None,
        }
    )
