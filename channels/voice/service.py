"""One Twilio Voice webhook, answered exactly once: state, effects, stored answer, outbox.

Every webhook ends in one transaction that stores its sealed answer under a
keyed hash of CallSid + turn + keys (the key decides between concurrent
deliveries, also across processes) together with the call's new state. A
webhook already answered gets the stored answer and changes nothing.

Effects run outside that transaction because they own theirs: a status
look-up counts failures in its own, and the intake pipeline commits the case
in its own. For the report, the answer reading the receipt out, the call's
new state, the pending audio attachment and the outbox entry that fetches it
are written by `on_stored` inside the case's transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from channels.voice import store
from channels.voice.conversation import (
    Keys,
    Line,
    LookUpStatus,
    Outcome,
    State,
    Step,
    SubmitReport,
    advance,
    not_saved_outcome,
    receipt_outcome,
    start,
    status_outcome,
    unknown_number_script,
)
from channels.voice.outbound import FETCH_KIND, fetch_payload
from channels.voice.prompts import narrative
from channels.voice.twiml import Render, twiml
from intake import i18n, ratelimit
from intake.context import AppContext
from intake.db import transaction
from intake.errors import InvalidInput, NotFound, ServiceUnavailable, TooManyRequests
from intake.followup.service import look_up
from intake.models import CaseAttachment, utcnow
from intake.outbox.enqueue import enqueue
from intake.reports.schemas import ReportIn
from intake.reports.service import submit
from intake.reports.submission import Accepted, OnStored, Submission
from intake.vocab import AUDIO, Channel

log = logging.getLogger("channels.voice")
CHANNEL: Channel = "voice"
_ATTEMPTS = 4


@dataclass(frozen=True, repr=False)
class Inbound:
    """What the webhook hands over: never logged, never stored in clear."""

    call_sid: str
    caller: str  # `From`: only its keyed hash counts against the rate limits
    called: str  # `To`: our own number
    turn: int  # the `t` of the action URL; 0 for the call's first webhook
    keys: Keys


class _AlreadyAnswered(Exception):
    """A concurrent delivery of the same webhook committed first."""


class _Changed(Exception):
    """The call moved on between reading it and storing the report."""


def handle(context: AppContext, inbound: Inbound) -> str:
    """The TwiML for one webhook, processing it only the first time it arrives."""
    for _attempt in range(_ATTEMPTS):
        try:
            answer = _attempt_once(context, inbound)
        except IntegrityError:
            continue  # a concurrent delivery won the answer's key; look again
        if answer is not None:
            return answer
    raise ServiceUnavailable("The call could not be processed; please try again.")


def _render(context: AppContext) -> Render:
    settings = context.settings
    return Render(public_url=settings.public_url or "", max_seconds=settings.voice_max_seconds)


def _answer_key(context: AppContext, inbound: Inbound) -> bytes:
    keys = inbound.keys
    return store.answer_key(
        context.secret,
        inbound.call_sid,
        turn=inbound.turn,
        digits=keys.digits,
        recording_sid=keys.recording_sid,
    )


def _attempt_once(context: AppContext, inbound: Inbound) -> str | None:
    now, secret = utcnow(), context.secret
    key = _answer_key(context, inbound)
    call = store.call_key(secret, inbound.call_sid)
    with transaction(context.sessions) as session:
        line = _line(context, session, inbound.called)
        # The call's lock comes before the look for a stored answer: a concurrent delivery
        # that holds it commits its answer first, and this one then reads it.
        row = store.lock_call(session, call) if line is not None else None
        done = store.stored_answer(session, secret, key, now)
        if done is not None:
            log.info("voice webhook", extra={"channel": CHANNEL, "event": "duplicate"})
            return done
        if line is None:
            language = i18n.negotiate_locale(None, None, context.settings.default_language)
            answer = twiml(unknown_number_script(language), _render(context))
            store.record_answer(session, secret, key, answer, now)
            log.info("voice webhook", extra={"channel": CHANNEL, "event": "unknown_number"})
            return answer
        state = store.read_state(secret, row, now)
        outcome = _outcome(state, inbound, line)
        if outcome is None:
            log.info("voice webhook", extra={"channel": CHANNEL, "event": "stale"})
            return twiml(None, _render(context))
        if outcome.effect is None:
            store.write_state(session, secret, key=call, row=row, state=outcome.state, now=now)
            answer = twiml(outcome.script, _render(context))
            store.record_answer(session, secret, key, answer, now)
            log.info("voice webhook", extra={"channel": CHANNEL, "event": _event(outcome)})
            return answer
    if isinstance(outcome.effect, LookUpStatus):
        return _status(context, inbound, outcome.effect)
    return _submit(context, inbound, line, outcome.effect)


def _outcome(state: State | None, inbound: Inbound, line: Line) -> Outcome | None:
    """Start, advance, or None: a webhook of a turn that is not the call's current one."""
    if state is None:
        return start(line) if inbound.turn == 0 else None
    if inbound.turn != state.turn:
        return None
    return advance(state, inbound.keys, line)


def _event(outcome: Outcome) -> str:
    return "ended" if outcome.state is None else outcome.state.step.value


def _line(context: AppContext, session: Session, called: str) -> Line | None:
    """The called number when it takes calls (`voice = true`)."""
    table = context.routing.active(session).table
    number = table.number(called)
    if number is None or not number.voice or not number.languages:
        return None
    return Line(number.country, tuple(dict.fromkeys(number.languages)))


def _finish(context: AppContext, inbound: Inbound, state: State, outcome: Outcome) -> str | None:
    """Store the answer of an effect that stored no case (status, a refused report)."""
    now, secret = utcnow(), context.secret
    key = _answer_key(context, inbound)
    call = store.call_key(secret, inbound.call_sid)
    with transaction(context.sessions) as session:
        row = store.lock_call(session, call)  # before the look, as in `_attempt_once`
        done = store.stored_answer(session, secret, key, now)
        if done is not None:
            return done
        if row is None or row.turn != state.turn:
            return None  # the call moved on meanwhile: look again
        store.write_state(session, secret, key=call, row=row, state=outcome.state, now=now)
        answer = twiml(outcome.script, _render(context))
        store.record_answer(session, secret, key, answer, now)
    return answer


def _status(context: AppContext, inbound: Inbound, effect: LookUpStatus) -> str | None:
    source = ratelimit.source_key(context.secret, inbound.caller)
    try:
        result = look_up(context, receipt_text=effect.receipt_text, source=source).status
    except (InvalidInput, NotFound):
        result = "unknown"
    except TooManyRequests:
        result = "limited"
    log.info("voice webhook", extra={"channel": CHANNEL, "event": "status"})
    return _finish(context, inbound, effect.state, status_outcome(effect.state, result))


def _submit(context: AppContext, inbound: Inbound, line: Line, effect: SubmitReport) -> str | None:
    """Store the report, then answer with its receipt; None: look again (lost a race)."""
    state = effect.state
    answers: list[str] = []

    def on_stored(session: Session, accepted: Accepted) -> None:
        now, secret = utcnow(), context.secret
        key = _answer_key(context, inbound)
        call = store.call_key(secret, inbound.call_sid)
        row = store.lock_call(session, call)
        if store.stored_answer(session, secret, key, now) is not None:
            raise _AlreadyAnswered
        if row is None or row.turn != state.turn or row.step != Step.RECORD.value:
            raise _Changed
        outcome = receipt_outcome(state, accepted.receipt)
        store.write_state(session, secret, key=call, row=row, state=outcome.state, now=now)
        answer = twiml(outcome.script, _render(context))
        store.record_answer(session, secret, key, answer, now)
        _queue_audio(session, context, accepted, inbound.call_sid, effect.recording_sid)
        answers[:] = [answer]  # a retried transaction (new receipt) replaces the last one

    try:
        submit(context, _submission(context, inbound, line, state, on_stored))
    except (_AlreadyAnswered, _Changed):
        return None
    except (TooManyRequests, ServiceUnavailable):
        return _finish(context, inbound, state, not_saved_outcome(state))
    log.info("voice webhook", extra={"channel": CHANNEL, "event": "submitted"})
    return answers[0]


def _queue_audio(
    session: Session, context: AppContext, accepted: Accepted, call_sid: str, recording_sid: str
) -> None:
    """A pending audio attachment, and the outbox entry that fetches it (SIDs sealed)."""
    attachment = CaseAttachment(case_id=accepted.case_id, kind=AUDIO, status="pending")
    session.add(attachment)
    session.flush()
    payload = fetch_payload(
        context.secret, attachment.id, call_sid=call_sid, recording_sid=recording_sid
    )
    enqueue(session, FETCH_KIND, payload, dedupe_key=f"{FETCH_KIND}:{attachment.id}")


def _submission(
    context: AppContext, inbound: Inbound, line: Line, state: State, on_stored: OnStored
) -> Submission:
    """An anonymous report whose narrative is the placeholder: the account is the audio."""
    report = ReportIn.model_validate(
        {
            "reporter_type": "anonymous",
            "language": state.language,
            "country": line.country,
            "category": state.category or "other",
            "narrative": narrative(state.language),
        }
    )
    return Submission(
        report=report,
        channel=CHANNEL,
        language=state.language,
        source=ratelimit.source_key(context.secret, inbound.caller),
        on_stored=on_stored,
    )
