"""Conversation rows: keyed by a hash, sealed drafts, idle timeout and cleanup."""

from __future__ import annotations

import json
import secrets
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from testkit.sms import SO_NUMBER, Phone, counts

from channels.sms import store as sms_store
from channels.sms import texts as t
from channels.sms.conversation import State, Step
from channels.sms.models import ProcessedMessage, SmsConversation
from crypto.server_secret import ServerSecret
from intake.context import AppContext
from intake.models import utcnow


def _context(app: FastAPI) -> AppContext:
    context: AppContext = app.state.context
    return context


def _row(context: AppContext) -> SmsConversation:
    with context.sessions() as session:
        return session.scalars(select(SmsConversation)).one()


def test_a_conversation_row_holds_choices_in_clear_and_the_rest_sealed(
    app: FastAPI, client: TestClient
) -> None:
    phone = Phone(client, to=SO_NUMBER)
    for body in ["Salaan", "2", "2", "1", "1", "Waxaa dhacay xalay."]:
        phone.say(body)
    context = _context(app)
    row = _row(context)
    assert row.sender_hash == sms_store.sender_key(context.secret, phone.number)
    assert row.sender_hash != sms_store.sender_key(context.secret, "whatsapp:" + phone.number)
    assert row.step == "account"
    assert json.loads(row.choices) == {
        "language": "so",
        "category": "sexual_abuse",
        "affiliation": "unknown",
        "reporter_type": "anonymous",
        "contact_me": True,
    }
    assert row.draft_sealed is not None
    assert b"xalay" not in row.draft_sealed
    hours = context.settings.sms_idle_timeout_hours
    assert row.expires_at - row.updated_at == timedelta(hours=hours)
    state, expired = sms_store.read_state(context.secret, row, utcnow())
    assert not expired
    assert state is not None
    assert state.account == ("Waxaa dhacay xalay.",)


def test_an_idle_conversation_is_dropped_on_the_next_message(
    app: FastAPI, client: TestClient
) -> None:
    phone = Phone(client, to=SO_NUMBER)
    for body in ["Salaan", "2", "2", "1", "1", "Qayb hore."]:
        phone.say(body)
    context = _context(app)
    with context.sessions() as session, session.begin():
        session.execute(update(SmsConversation).values(expires_at=utcnow() - timedelta(seconds=1)))
    replies = phone.say("Qayb dambe.")
    hours = context.settings.sms_idle_timeout_hours
    assert replies[0] == t.SmsTexts("so").text(t.EXPIRED, hours=hours)
    assert replies[1] == t.SmsTexts("so").text(t.WELCOME)
    state, _ = sms_store.read_state(context.secret, _row(context), utcnow())
    assert state is not None
    assert state.step is Step.CATEGORY
    assert state.account == ()  # the old draft is gone with the old state


def test_purge_deletes_idle_conversations_and_old_replies_only(
    app: FastAPI, client: TestClient
) -> None:
    for _ in range(3):
        Phone(client, to=SO_NUMBER).say("Salaan")
    context = _context(app)
    hours = context.settings.sms_idle_timeout_hours
    later = utcnow() + timedelta(hours=hours, minutes=1)
    with context.sessions() as session, session.begin():
        oldest = session.scalars(select(SmsConversation)).first()
        assert oldest is not None
        oldest.expires_at = later + timedelta(hours=1)
    with context.sessions() as session, session.begin():
        # Two idle conversations, and the three stored replies (15 minutes) long before.
        assert sms_store.purge_expired_conversations(session, later) == 2 + 3
    assert counts(context)["sms_conversations"] == 1
    with context.sessions() as session, session.begin():
        much_later = later + timedelta(hours=1, minutes=1)
        assert sms_store.purge_expired_conversations(session, much_later) == 1
    with context.sessions() as session:
        rows = session.scalars(select(ProcessedMessage)).all()
        assert len(rows) == 3  # the hashes stay, so late duplicates stay idle
        assert all(row.reply_sealed is None for row in rows)
    with context.sessions() as session, session.begin():
        week = utcnow() + sms_store.PROCESSED_KEPT
        assert sms_store.purge_expired_conversations(session, week) == 3
    assert counts(context)["processed_messages"] == 0


def test_a_draft_sealed_under_another_secret_starts_over(
    app: FastAPI, client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    Phone(client, to=SO_NUMBER).say(
        "A first message long enough to be kept as the start of the account."
    )
    row = _row(_context(app))
    other = ServerSecret(secrets.token_bytes(32))
    assert sms_store.read_state(other, row, utcnow()) == (None, False)
    assert any(record.name == "channels.sms" for record in caplog.records)


def test_write_state_none_deletes_the_row(app: FastAPI, client: TestClient) -> None:
    context = _context(app)
    key = sms_store.sender_key(context.secret, "+254700999888")
    state = State(Step.ACCOUNT, "en", "other", "named", False, "N", ("a",))
    idle = timedelta(hours=1)
    with context.sessions() as session, session.begin():
        sms_store.write_state(
            session, context.secret, key=key, row=None, state=state, now=utcnow(), idle=idle
        )
    with context.sessions() as session, session.begin():
        row = sms_store.lock_conversation(session, key)
        restored, _ = sms_store.read_state(context.secret, row, utcnow())
        assert restored is not None
        assert (restored.name, restored.account, restored.category) == ("N", ("a",), "other")
        sms_store.write_state(
            session, context.secret, key=key, row=row, state=None, now=utcnow(), idle=idle
        )
    assert counts(context)["sms_conversations"] == 0
