"""A reporter's reply to the people handling the report (SPEC 16).

The reporter proves the case with the receipt, exactly as at follow-up (the
same failed-look-up limits count), and the text is sealed at once, in this
request: an envelope v1 of `{"text": ...}` to the case's recipients and
escrow (AAD `intake:v1:` + case_ref, the staff copy) and a sealed box to the
receipt key (so the reporter sees it at follow-up). Nothing of it is stored
or logged in clear. The recipients get the content-free `reporter_reply`
alert; the inbox marks the case new until one of them opens it. A closed
case still takes replies; at most `REPLIES_PER_DAY` a case in any 24 hours.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crypto.envelope import case_aad, seal
from crypto.receipt import seal_to_public_key
from crypto.text import utf8_or_none
from intake.audit import trail as audit
from intake.cases.service import case_public_keys, refuse_if_shredded
from intake.context import AppContext
from intake.db import transaction
from intake.errors import InvalidInput, NotFound, TooManyRequests
from intake.followup.service import (
    FROM_REPORTER,
    UNKNOWN_TEXT,
    derive_or_refuse,
    parse_receipt,
    release_attempt,
    reserve_attempt,
)
from intake.models import Case, CaseMessage, utcnow
from intake.outbox.notifications import alert_focal_point
from intake.reports.schemas import REPLY_MAX

log = logging.getLogger("intake.followup")
REPLIES_PER_DAY = 20
REPLY_WINDOW = timedelta(days=1)
REPLY_ACTOR = "reporter"  # the audit trail's actor: the reporter has no account
# Error codes (the reporter's pages and SMS say them in the reporter's language).
REPLY_EMPTY = "reply_empty"
REPLY_TOO_LONG = "reply_too_long"
REPLY_INVALID = "reply_invalid"
_TEXTS = {
    REPLY_EMPTY: "Please write a message.",
    REPLY_TOO_LONG: "The message is too long: at most 5,000 characters.",
    REPLY_INVALID: "The message contains a character that is not allowed.",
}
TOO_MANY_TEXT = "Too many replies to this report today; see the Retry-After header."


class TooManyReplies(TooManyRequests):
    """The case's daily reply limit (not the look-up limits): the receipt was right."""


def check_text(text: str) -> None:
    """1 to 5,000 code points of valid text, kept exactly as written; else InvalidInput."""
    code = None
    if not isinstance(text, str) or not text.strip():
        code = REPLY_EMPTY
    elif len(text) > REPLY_MAX:
        code = REPLY_TOO_LONG
    elif "\x00" in text or utf8_or_none(text) is None:
        code = REPLY_INVALID
    if code is not None:
        raise InvalidInput(
            _TEXTS[code], errors=[{"loc": ["text"], "type": code, "msg": _TEXTS[code]}]
        )


def reply(
    context: AppContext,
    *,
    receipt_text: str,
    text: str,
    source: bytes | None,
    within: Callable[[Session], None] | None = None,
) -> datetime:
    """Seal and store the reporter's reply; returns its time.

    `within` runs in the reply's transaction once it is stored (the SMS channel
    marks its MessageSid processed there, so a redelivery never stores it twice).

    Raises InvalidInput (receipt or text), TooManyRequests (look-up limits),
    NotFound (no case has the receipt; counted as a failed look-up) and
    TooManyReplies (the case's daily limit).
    """
    receipt = parse_receipt(receipt_text)
    check_text(text)
    now = utcnow()
    reserve_attempt(context, source, now)
    keys = derive_or_refuse(context, receipt, source, now)
    try:
        with transaction(context.sessions) as session:
            case = session.scalars(
                select(Case).where(Case.receipt_lookup == keys.lookup).with_for_update()
            ).one_or_none()
            if case is None:
                raise NotFound(UNKNOWN_TEXT)
            case_ref = case.case_ref
            refuse_if_shredded(case)  # CaseShredded: a 409; its receipt was right
            _check_daily_limit(session, case, now)
            _store(session, context, case, text, now)
            if within is not None:
                within(session)
    except NotFound:
        raise  # the reserved attempt stays counted as a failure
    except Exception:
        release_attempt(context, source, now)  # the receipt was right
        raise
    release_attempt(context, source, now)
    log.info("reporter reply", extra={"case_ref": case_ref})
    return now


def _check_daily_limit(session: Session, case: Case, now: datetime) -> None:
    """At most REPLIES_PER_DAY in the last 24 hours; Retry-After: until the oldest leaves.

    The case row is locked, so concurrent replies count one after the other.
    """
    since = now - REPLY_WINDOW
    recent = select(CaseMessage.at).where(
        CaseMessage.case_id == case.id,
        CaseMessage.sender == FROM_REPORTER,
        CaseMessage.at > since,
    )
    count = int(session.scalar(select(func.count()).select_from(recent.subquery())) or 0)
    if count < REPLIES_PER_DAY:
        return
    oldest = session.scalar(recent.order_by(CaseMessage.at).offset(count - REPLIES_PER_DAY))
    free_at = (oldest or now) + REPLY_WINDOW
    log.warning("reporter reply refused", extra={"case_ref": case.case_ref})
    wait = max(1, int((free_at - now).total_seconds()) + 1)
    raise TooManyReplies(wait, TOO_MANY_TEXT)


def _store(session: Session, context: AppContext, case: Case, text: str, now: datetime) -> None:
    keys = case_public_keys(context, session, case)
    envelope = seal({"text": text}, public_keys=keys, aad=case_aad(case.case_ref))
    stored = CaseMessage(
        case_id=case.id,
        at=now,
        author=REPLY_ACTOR,
        sender=FROM_REPORTER,
        sealed_for_reporter=seal_to_public_key(text, case.receipt_public_key),
        envelope=json.dumps(envelope, separators=(",", ":")),
    )
    session.add(stored)
    session.flush()
    case.reply_unseen = True
    audit.append(
        session,
        actor=REPLY_ACTOR,
        action="case.reply",
        case_ref=case.case_ref,
        detail={"message_id": stored.id},
    )
    _notify(session, context, case)


def _notify(session: Session, context: AppContext, case: Case) -> None:
    """The content-free `reporter_reply` alert to each active recipient's addresses."""
    table = context.routing.active(session).table
    for recipient in case.recipients:
        if recipient.active:
            alert_focal_point(session, table, case, recipient.focal_point_id, "reporter_reply")
