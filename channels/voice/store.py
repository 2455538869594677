"""The database side of the voice channel: call state and answered webhooks.

A call row is keyed by a keyed hash of the CallSid; its clear columns hold
only the turn, the step and the choices (language, category). The receipt,
kept so that the caller can hear it again, is sealed with the server's draft
key, and so is every stored answer (its TwiML reads the receipt out).
Functions take the caller's session and only flush: the caller commits.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from channels.voice.conversation import State, Step
from channels.voice.models import VoiceAnswer, VoiceCall
from crypto.secretbox import DraftError, open_draft, seal_draft
from crypto.server_secret import ServerSecret

log = logging.getLogger("channels.voice")
CALL_PURPOSE = "voice-call"
ANSWER_PURPOSE = "voice-answer"
CALL_IDLE = timedelta(minutes=30)  # no webhook for this long: the call is over
ANSWER_KEPT = timedelta(minutes=15)  # as SMS replies (SPEC 15)


def call_key(secret: ServerSecret, call_sid: str) -> bytes:
    return secret.keyed_hash(CALL_PURPOSE, call_sid.encode("ascii"))


def answer_key(
    secret: ServerSecret, call_sid: str, *, turn: int, digits: str, recording_sid: str | None
) -> bytes:
    """One webhook: the call, its turn, the keys pressed and the recording made."""
    parts = [call_sid, str(turn), digits, recording_sid or ""]
    return secret.keyed_hash(ANSWER_PURPOSE, "\x00".join(parts).encode("utf-8"))


def stored_answer(session: Session, secret: ServerSecret, key: bytes, now: datetime) -> str | None:
    """The TwiML given to this webhook before; None when never answered (or expired)."""
    row = session.get(VoiceAnswer, key)
    if row is None or row.expires_at <= now:
        return None
    try:
        return open_draft(secret, row.twiml_sealed).decode("utf-8")
    except (DraftError, UnicodeDecodeError):
        log.warning("voice stored answer unreadable", extra={"event": "answer_unreadable"})
        return None


def record_answer(
    session: Session, secret: ServerSecret, key: bytes, twiml: str, now: datetime
) -> None:
    """Keep the answer sealed; a second insert of one webhook fails on the key."""
    existing = session.get(VoiceAnswer, key)
    if existing is not None:  # expired but not yet purged: this webhook starts over
        session.delete(existing)
        session.flush()
    sealed = seal_draft(secret, twiml.encode("utf-8"))
    session.add(VoiceAnswer(answer_key=key, twiml_sealed=sealed, expires_at=now + ANSWER_KEPT))
    session.flush()


def lock_call(session: Session, key: bytes) -> VoiceCall | None:
    """The call's row, locked until commit (PostgreSQL; SQLite's writer lock serialises)."""
    return session.scalars(
        select(VoiceCall).where(VoiceCall.call_hash == key).with_for_update()
    ).one_or_none()


def read_state(secret: ServerSecret, row: VoiceCall | None, now: datetime) -> State | None:
    """The call's state; None for no row, an idle one, or one that cannot be read."""
    if row is None or row.expires_at <= now:
        return None
    try:
        choices = json.loads(row.choices)
        receipt = open_draft(secret, row.draft_sealed).decode() if row.draft_sealed else None
        return State(
            step=Step(row.step),
            language=str(choices["language"]),
            turn=row.turn,
            category=choices.get("category"),
            tries=int(choices.get("tries", 0)),
            receipt=receipt,
        )
    except (DraftError, ValueError, KeyError, TypeError):
        log.warning("voice call unreadable", extra={"event": "call_reset"})
        return None


def write_state(
    session: Session,
    secret: ServerSecret,
    *,
    key: bytes,
    row: VoiceCall | None,
    state: State | None,
    now: datetime,
) -> None:
    """Store `state` for the call (None deletes the row, and the receipt with it)."""
    if state is None:
        if row is not None:
            session.delete(row)
            session.flush()
        return
    if row is None:
        row = VoiceCall(call_hash=key)
        session.add(row)
    choices = {"language": state.language, "category": state.category, "tries": state.tries}
    row.turn = state.turn
    row.step = state.step.value
    row.choices = json.dumps(choices, sort_keys=True)
    row.draft_sealed = seal_draft(secret, state.receipt.encode("ascii")) if state.receipt else None
    row.updated_at = now
    row.expires_at = now + CALL_IDLE
    session.flush()


def purge_expired(session: Session, now: datetime) -> int:
    """Idle calls (with their sealed receipts) and answers past their time; rows removed."""
    removed = 0
    for model in (VoiceCall, VoiceAnswer):
        result = session.execute(delete(model).where(model.expires_at <= now))
        removed += int(result.rowcount)  # type: ignore[attr-defined]
    return removed
