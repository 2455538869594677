"""Look a case up by its receipt, with guessing made useless (SPEC section 8).

Failed look-ups are counted per source and globally in the database, so every
server process shares the counts; a caller over either limit is refused
before any Argon2id work is spent. Messages to the reporter are sealed to the
receipt key pair and opened only here, in the request that presents the
receipt; their text is never logged and never stored in clear.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto.errors import EnvelopeError
from crypto.keys import KeyPair
from crypto.receipt import ReceiptKeys, normalize_receipt, open_with_keypair
from intake import ratelimit
from intake.context import AppContext
from intake.db import transaction
from intake.errors import InvalidInput, NotFound, TooManyRequests
from intake.models import Case, CaseMessage, utcnow
from intake.reports.lookup_lane import LookupsBusy
from intake.reports.receipts import derive_for_lookup
from intake.settings import RateLimit

log = logging.getLogger("intake.followup")
SOURCE_SCOPE = "followup-source"
GLOBAL_SCOPE = "followup-global"
RECEIPT_INVALID = "receipt_invalid"
RECEIPT_INVALID_TEXT = "A receipt is 16 digits; spaces and dashes between them are fine."
UNKNOWN_TEXT = "No report has this receipt."
FROM_REPORTER = "reporter"  # CaseMessage.sender of a reporter's reply
BUSY_RETRY_S = 2  # every look-up lane thread busy and its backlog full (a flood of guesses)


@dataclass(frozen=True)
class FollowupMessage:
    at: datetime
    text: str = field(repr=False)  # sealed content: never in a repr
    from_reporter: bool = False  # the reporter's own reply (SPEC 16)


@dataclass(frozen=True)
class FollowupView:
    case_ref: str
    status: str
    updated_at: datetime
    messages: list[FollowupMessage]
    shredded: bool = False  # retention (SPEC 12): the messages were destroyed, no replies


def look_up(context: AppContext, *, receipt_text: str, source: bytes | None) -> FollowupView:
    """The case a receipt belongs to, with its messages opened.

    Raises InvalidInput (code `receipt_invalid`) when the text is not a
    receipt, TooManyRequests when failed look-ups are over a limit, and
    NotFound when no case has this receipt (counted as a failure).
    """
    receipt = parse_receipt(receipt_text)
    now = utcnow()
    reserve_attempt(context, source, now)
    keys = derive_or_refuse(context, receipt, source, now)
    with context.sessions() as session:
        case = session.scalars(select(Case).where(Case.receipt_lookup == keys.lookup)).one_or_none()
        view = None if case is None else _view(session, case, keys.keypair)
    if view is None:
        raise NotFound(UNKNOWN_TEXT)  # the reserved attempt stays counted as a failure
    release_attempt(context, source, now)
    return view


def parse_receipt(receipt_text: str) -> str:
    """The receipt's 16 digits, or InvalidInput (code `receipt_invalid`)."""
    receipt = normalize_receipt(receipt_text)
    if receipt is None:
        raise InvalidInput(
            RECEIPT_INVALID_TEXT,
            errors=[{"loc": ["receipt"], "type": RECEIPT_INVALID, "msg": RECEIPT_INVALID_TEXT}],
        )
    return receipt


def _limits(context: AppContext, source: bytes | None) -> list[tuple[str, bytes, RateLimit]]:
    """The (scope, source, limit) counters a failed look-up from `source` counts against."""
    settings = context.settings
    counters = [(GLOBAL_SCOPE, ratelimit.GLOBAL_SOURCE, settings.followup_global_rate)]
    if source is not None:
        counters.insert(0, (SOURCE_SCOPE, source, settings.followup_rate))
    return [counter for counter in counters if counter[2].enabled]


def reserve_attempt(context: AppContext, source: bytes | None, now: datetime) -> None:
    """Count this attempt as a failure up front, atomically, or refuse it.

    Counting first (one upsert per counter, in one transaction) means
    concurrent guesses, from any process, can never pass a limit together; a
    refused attempt rolls back, so a flood from one source that is over its own
    limit does not use up the global budget. A successful look-up gives its
    attempt back.
    """
    with transaction(context.sessions) as session:
        for scope, key, limit in _limits(context, source):
            if ratelimit.record(session, scope, key, limit, now) > limit.count:
                log.warning("followup refused", extra={"reason": scope})
                raise TooManyRequests(ratelimit.retry_after(limit, now))


def derive_or_refuse(
    context: AppContext, receipt: str, source: bytes | None, now: datetime
) -> ReceiptKeys:
    """The receipt's keys from the look-up lane; when it is full, 429 (the attempt given back)."""
    try:
        return derive_for_lookup(context, receipt)
    except LookupsBusy:
        release_attempt(context, source, now)
        log.warning("followup refused", extra={"reason": "busy"})
        raise TooManyRequests(BUSY_RETRY_S) from None


def release_attempt(context: AppContext, source: bytes | None, now: datetime) -> None:
    with transaction(context.sessions) as session:
        for scope, key, limit in _limits(context, source):
            ratelimit.release(session, scope, key, limit, now)


def _view(session: Session, case: Case, keypair: KeyPair) -> FollowupView:
    rows = session.scalars(
        select(CaseMessage)
        .where(CaseMessage.case_id == case.id)
        .order_by(CaseMessage.at, CaseMessage.id)
    ).all()
    messages: list[FollowupMessage] = []
    for row in rows:
        try:
            messages.append(
                FollowupMessage(
                    row.at,
                    open_with_keypair(row.sealed_for_reporter, keypair),
                    from_reporter=row.sender == FROM_REPORTER,
                )
            )
        except EnvelopeError:
            # Damaged or sealed to another key: the reporter still sees the rest.
            log.error("followup message does not open", extra={"case_ref": case.case_ref})
    updated_at = max([case.updated_at, *(message.at for message in messages)])
    return FollowupView(
        case.case_ref, case.status, updated_at, messages, shredded=case.shredded_at is not None
    )
