"""The database side of the SMS channel: conversation rows and processed MessageSids.

A conversation row is keyed by a keyed hash of the sender's address, never
the address. Its clear columns hold only choices (step, language, category,
reporter type, consent); what the reporter wrote (the account, the name) is
sealed with the server's draft key. A processed message is a keyed hash of
its MessageSid, never the SID (SPEC 15). Its reply is sealed the same way and
kept for `REPLY_KEPT` (15 minutes), so a redelivery gets the same answer; a
later one gets an empty answer and changes nothing while the hash is kept
(`PROCESSED_KEPT`, 7 days). Functions take the caller's session and only
flush: the caller commits.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from channels.sms.conversation import State, Step
from channels.sms.models import ProcessedMessage, SmsConversation, SmsReplyRoute
from channels.sms.outbound import SMS_REPLY_KIND
from crypto.secretbox import DraftError, open_draft, seal_draft
from crypto.server_secret import ServerSecret
from intake.models import CaseMessage, OutboxEntry

log = logging.getLogger("channels.sms")
SENDER_PURPOSE = "sms-sender"
SID_PURPOSE = "sms-message-sid"
REPLY_KEPT = timedelta(minutes=15)
PROCESSED_KEPT = timedelta(days=7)


def sender_key(secret: ServerSecret, address: str) -> bytes:
    """The conversation key of a sender address (`+2547...` or `whatsapp:+2547...`)."""
    return secret.keyed_hash(SENDER_PURPOSE, address.encode("utf-8"))


def sid_key(secret: ServerSecret, message_sid: str) -> bytes:
    """What is stored of a MessageSid: its keyed hash."""
    return secret.keyed_hash(SID_PURPOSE, message_sid.encode("ascii"))


def lock_conversation(session: Session, key: bytes) -> SmsConversation | None:
    """The sender's row, locked until commit (PostgreSQL; SQLite's writer lock serialises)."""
    return session.scalars(
        select(SmsConversation).where(SmsConversation.sender_hash == key).with_for_update()
    ).one_or_none()


def read_state(
    secret: ServerSecret, row: SmsConversation | None, now: datetime
) -> tuple[State | None, bool]:
    """The stored state and whether it just expired; an unreadable row counts as none."""
    if row is None:
        return None, False
    if row.expires_at <= now:
        return None, True
    try:
        draft = json.loads(open_draft(secret, row.draft_sealed)) if row.draft_sealed else {}
        return _state(row.step, json.loads(row.choices), draft), False
    except (DraftError, ValueError, KeyError, TypeError):
        # Another secret file or a damaged row: start again rather than fail forever.
        log.warning("sms conversation unreadable", extra={"event": "conversation_reset"})
        return None, False


def _state(step: str, choices: dict[str, Any], draft: dict[str, Any]) -> State:
    return State(
        step=Step(step),
        language=str(choices["language"]),
        category=choices.get("category"),
        affiliation=choices.get("affiliation"),
        reporter_type=choices.get("reporter_type"),
        contact_me=choices.get("contact_me"),
        name=draft.get("name"),
        account=tuple(str(part) for part in draft.get("account", ())),
    )


def write_state(
    session: Session,
    secret: ServerSecret,
    *,
    key: bytes,
    row: SmsConversation | None,
    state: State | None,
    now: datetime,
    idle: timedelta,
) -> None:
    """Store `state` for the sender (None deletes the row and all it held)."""
    if state is None:
        if row is not None:
            session.delete(row)
            session.flush()
        return
    if row is None:
        row = SmsConversation(sender_hash=key)
        session.add(row)
    choices = {
        "language": state.language,
        "category": state.category,
        "affiliation": state.affiliation,
        "reporter_type": state.reporter_type,
        "contact_me": state.contact_me,
    }
    row.step = state.step.value
    row.choices = json.dumps(choices, sort_keys=True)
    row.draft_sealed = _seal_draft(secret, state)
    row.updated_at = now
    row.expires_at = now + idle
    session.flush()


def _seal_draft(secret: ServerSecret, state: State) -> bytes | None:
    if state.name is None and not state.account:
        return None
    draft = {"name": state.name, "account": list(state.account)}
    return seal_draft(secret, json.dumps(draft, ensure_ascii=False).encode("utf-8"))


def processed_replies(
    session: Session, secret: ServerSecret, message_sid: str, now: datetime
) -> tuple[str, ...] | None:
    """The replies given to `message_sid` (empty once expired); None when never processed."""
    row = session.get(ProcessedMessage, sid_key(secret, message_sid))
    if row is None:
        return None
    if row.reply_sealed is None or (row.reply_expires_at and row.reply_expires_at <= now):
        return ()
    try:
        replies = json.loads(open_draft(secret, row.reply_sealed))
    except (DraftError, ValueError):
        log.warning("sms stored reply unreadable", extra={"event": "reply_unreadable"})
        return ()
    return tuple(str(reply) for reply in replies)


def record_processed(
    session: Session,
    secret: ServerSecret,
    message_sid: str,
    replies: tuple[str, ...],
    now: datetime,
) -> None:
    """Mark `message_sid` processed with its sealed replies; a second insert fails on the key.

    No case is named: the MessageSid-to-case link is not kept. The minute is.
    """
    sealed = seal_draft(secret, json.dumps(list(replies), ensure_ascii=False).encode("utf-8"))
    session.add(
        ProcessedMessage(
            sid_hash=sid_key(secret, message_sid),
            received_at=now.replace(second=0, microsecond=0),
            reply_sealed=sealed,
            reply_expires_at=now + REPLY_KEPT,
        )
    )
    session.flush()


def purge_expired_conversations(session: Session, now: datetime) -> int:
    """Rows changed: idle conversations deleted, stored replies past their time dropped,
    processed-message hashes past `PROCESSED_KEPT` deleted.

    The worker calls this on every pass; conversations are also deleted lazily
    when their sender writes again.
    """
    return (
        delete_expired_conversations(session, now)
        + purge_expired_replies(session, now)
        + purge_processed(session, now)
    )


def delete_expired_conversations(
    session: Session, now: datetime, *, sender: bytes | None = None
) -> int:
    """Delete idle conversations (with their sealed drafts), all or one sender's."""
    statement = delete(SmsConversation).where(SmsConversation.expires_at <= now)
    if sender is not None:
        statement = statement.where(SmsConversation.sender_hash == sender)
    count: int = session.execute(statement).rowcount  # type: ignore[attr-defined]
    return count


def purge_expired_replies(session: Session, now: datetime) -> int:
    """Drop stored replies past their time; the hash rows stay, so duplicates stay idle."""
    statement = (
        update(ProcessedMessage)
        .where(ProcessedMessage.reply_expires_at <= now)
        .values(reply_sealed=None, reply_expires_at=None)
    )
    count: int = session.execute(statement).rowcount  # type: ignore[attr-defined]
    return count


def purge_processed(session: Session, now: datetime) -> int:
    """Forget processed messages after `PROCESSED_KEPT`: Twilio redelivers within minutes."""
    statement = delete(ProcessedMessage).where(ProcessedMessage.received_at <= now - PROCESSED_KEPT)
    count: int = session.execute(statement).rowcount  # type: ignore[attr-defined]
    return count


def keep_reply_route(
    session: Session, secret: ServerSecret, case_id: int, *, to: str, sender: str
) -> None:
    """Remember, sealed, where a focal point's answer to this case goes (consent given)."""
    route = json.dumps({"to": to, "from": sender}).encode("utf-8")
    session.add(SmsReplyRoute(case_id=case_id, route_sealed=seal_draft(secret, route)))


def reply_route(session: Session, case_id: int) -> bytes | None:
    """The sealed route of an SMS case whose reporter agreed to be contacted, if any."""
    row = session.get(SmsReplyRoute, case_id)
    return row.route_sealed if row is not None else None


def shred_case(session: Session, case_id: int) -> tuple[str, ...]:
    """Retention: forget where answers to the case go and every answer still queued.

    Answers are outbox rows deduplicated on the message id (`SmsChannel.
    on_focal_point_message`), so they are found through the case's messages,
    which the core deletes after this.
    """
    session.execute(delete(SmsReplyRoute).where(SmsReplyRoute.case_id == case_id))
    message_ids = select(CaseMessage.id).where(CaseMessage.case_id == case_id)
    keys = [f"{SMS_REPLY_KIND}:{message_id}" for message_id in session.scalars(message_ids)]
    if keys:
        session.execute(delete(OutboxEntry).where(OutboxEntry.dedupe_key.in_(keys)))
    return (SmsReplyRoute.__tablename__, OutboxEntry.__tablename__)
