"""One MessageSid is processed once, however often and however concurrently it arrives."""

from __future__ import annotations

import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from testkit.cases import open_case
from testkit.clock import Clock
from testkit.keys import Keyring
from testkit.sms import SO_NUMBER, Phone, counts, messages, new_sid, receipt_in
from testkit.storage import database_bytes

from channels.sms import store as sms_store
from channels.sms import webhook as sms
from channels.sms.models import ProcessedMessage, SmsConversation
from intake.context import AppContext
from intake.models import Case, utcnow
from intake.worker.run import Worker

WORKERS = 8


def _context(app: FastAPI) -> AppContext:
    context: AppContext = app.state.context
    return context


def _key(app: FastAPI, sid: str) -> bytes:
    return sms_store.sid_key(_context(app).secret, sid)


def _at_account(client: TestClient) -> Phone:
    phone = Phone(client, to=SO_NUMBER)
    for body in ["Salaan", "1", "2", "1", "2"]:
        phone.say(body)
    return phone


def _at_summary(client: TestClient) -> Phone:
    phone = _at_account(client)
    phone.say("Qaybta koowaad.")
    phone.say("DHAMMAAD")
    return phone


def _narrative(app: FastAPI, keyring: Keyring) -> str:
    with _context(app).sessions() as session:
        case = session.scalars(select(Case)).one()
        return str(open_case(case, keyring.pairs["so-unhcr"])["narrative"])


def _all_at_once(calls: list[Callable[[], httpx.Response]]) -> list[httpx.Response]:
    start = threading.Barrier(len(calls))

    def run(call: Callable[[], httpx.Response]) -> httpx.Response:
        start.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def test_a_redelivered_message_gets_the_first_reply_and_changes_nothing(
    app: FastAPI, client: TestClient, keyring: Keyring
) -> None:
    phone = _at_account(client)
    sid = new_sid()
    first = phone.deliver("Qayb keliya.", sid=sid)
    before = counts(_context(app))
    again = phone.deliver("Qayb keliya.", sid=sid)
    assert again.status_code == 200
    assert again.text == first.text
    assert counts(_context(app)) == before
    phone.say("DHAMMAAD")
    phone.say("1")
    assert _narrative(app, keyring) == "Qayb keliya."


def test_a_redelivered_confirmation_gives_the_same_receipt_and_one_case(
    app: FastAPI, client: TestClient
) -> None:
    phone = _at_summary(client)
    sid = new_sid()
    first = messages(phone.deliver("1", sid=sid))
    second = messages(phone.deliver("1", sid=sid))
    assert second == first
    receipt_in(first)
    assert counts(_context(app))["cases"] == 1


def test_concurrent_deliveries_of_one_message_are_processed_once(
    app: FastAPI, client: TestClient, keyring: Keyring
) -> None:
    phone = _at_account(client)
    sid = new_sid()
    responses = _all_at_once([lambda: phone.deliver("Hal mar.", sid=sid)] * WORKERS)
    assert {response.status_code for response in responses} == {200}
    assert len({response.text for response in responses}) == 1
    with _context(app).sessions() as session:
        assert session.get(ProcessedMessage, _key(app, sid)) is not None
    assert counts(_context(app))["outbox:twilio_redact"] == 6  # five answers + this one
    phone.say("DHAMMAAD")
    phone.say("1")
    assert _narrative(app, keyring) == "Hal mar."


def test_concurrent_deliveries_of_a_confirmation_make_one_case(
    app: FastAPI, client: TestClient
) -> None:
    phone = _at_summary(client)
    sid = new_sid()
    responses = _all_at_once([lambda: phone.deliver("1", sid=sid)] * WORKERS)
    assert {response.status_code for response in responses} == {200}
    assert len({response.text for response in responses}) == 1
    receipt_in(messages(responses[0]))
    found = counts(_context(app))
    assert found["cases"] == 1
    assert found["sms_conversations"] == 0
    with _context(app).sessions() as session:
        row = session.get(ProcessedMessage, _key(app, sid))
        assert row is not None  # and nothing in it names the case (no such column)


def test_concurrent_messages_of_one_sender_are_all_kept(
    app: FastAPI, client: TestClient, keyring: Keyring
) -> None:
    phone = _at_account(client)
    parts = [f"Qayb {index}." for index in range(WORKERS)]
    responses = _all_at_once([lambda part=part: phone.deliver(part) for part in parts])
    assert {response.status_code for response in responses} == {200}
    phone.say("DHAMMAAD")
    phone.say("1")
    assert sorted(_narrative(app, keyring).split("\n")) == sorted(parts)


def test_concurrent_first_messages_of_one_sender_start_one_conversation(
    app: FastAPI, client: TestClient
) -> None:
    phone = Phone(client, to=SO_NUMBER)
    responses = _all_at_once([lambda: phone.deliver("Salaan")] * WORKERS)
    assert {response.status_code for response in responses} == {200}
    assert counts(_context(app))["sms_conversations"] == 1


def test_a_crash_between_commit_and_answer_still_returns_the_receipt(
    app: FastAPI, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    phone = _at_summary(client)
    real_twiml = sms.twiml

    def crash(replies: object) -> str:
        monkeypatch.setattr(sms, "twiml", real_twiml)
        raise ConnectionResetError("the process died before answering")

    monkeypatch.setattr(sms, "twiml", crash)
    sid = new_sid()
    with pytest.raises(ConnectionResetError):  # Twilio sees a 500 or a dropped connection
        phone.deliver("1", sid=sid)
    assert counts(_context(app))["cases"] == 1
    retried = phone.deliver("1", sid=sid)
    assert retried.status_code == 200
    receipt_in(messages(retried))
    assert counts(_context(app))["cases"] == 1


def test_stored_replies_expire_and_a_late_redelivery_stays_idle(
    app: FastAPI, client: TestClient
) -> None:
    phone = _at_account(client)
    sid = new_sid()
    phone.deliver("Qayb.", sid=sid)
    context = _context(app)
    with context.sessions() as session, session.begin():
        purged = sms_store.purge_expired_replies(
            session, utcnow() + sms_store.REPLY_KEPT + timedelta(minutes=1)
        )
    assert purged == 6
    before = counts(context)
    late = phone.deliver("Qayb.", sid=sid)
    assert late.status_code == 200
    assert messages(late) == []
    assert counts(context) == before
    with context.sessions() as session:
        conversation = session.scalars(select(SmsConversation)).one()
        state, _expired = sms_store.read_state(context.secret, conversation, utcnow())
        assert state is not None
        assert state.account == ("Qayb.",)


def test_the_message_sid_is_stored_only_as_a_keyed_hash(app: FastAPI, client: TestClient) -> None:
    phone = _at_summary(client)
    sid = new_sid()
    assert receipt_in(messages(phone.deliver("1", sid=sid)))
    context = _context(app)
    stored = database_bytes(context)
    assert sid.encode() not in stored
    assert sid[2:].encode() not in stored
    with context.sessions() as session:
        row = session.get(ProcessedMessage, _key(app, sid))
        assert row is not None
        assert row.received_at.second == 0
        assert row.received_at.microsecond == 0
        assert "case_id" not in ProcessedMessage.__table__.columns


def test_after_fifteen_minutes_the_worker_drops_the_reply_and_a_redelivery_gets_nothing(
    app: FastAPI, client: TestClient
) -> None:
    phone = _at_summary(client)
    sid = new_sid()
    first = phone.deliver("1", sid=sid)
    receipt_in(messages(first))
    context = _context(app)
    within = Worker(context, clock=Clock(utcnow() + timedelta(minutes=14)), handlers={})
    within.run_once()
    assert phone.deliver("1", sid=sid).text == first.text  # within 15 minutes: the same reply
    Worker(context, clock=Clock(utcnow() + timedelta(minutes=16)), handlers={}).run_once()
    before = counts(context)
    late = phone.deliver("1", sid=sid)
    assert late.status_code == 200
    assert messages(late) == []
    assert ET.fromstring(late.text).tag == "Response"  # noqa: S314 - our own answer
    assert counts(context) == before
    with context.sessions() as session:
        row = session.get(ProcessedMessage, _key(app, sid))
        assert row is not None
        assert row.reply_sealed is None
