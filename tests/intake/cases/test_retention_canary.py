"""Shredded bytes are gone from every file of the SQLite database (SPEC 12, secure delete).

Canary content goes in through the real paths (a JSON report, an SMS
conversation with consent, a hotline call with the caller's number, a focal
point's message, reporter replies on the web and by SMS). Every ciphertext
stored for those cases is collected; after the shred none of it is left in
the database file, its `-wal` or its `-shm`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.engine import make_url
from testkit.cases import case_by_ref, report
from testkit.keys import Keyring, routing_table_toml
from testkit.sms import Phone, receipt_in

from channels.sms.models import SmsConversation, SmsReplyRoute
from intake.cases.retention import run_retention
from intake.commands.audit import check
from intake.context import AppContext
from intake.models import Case, CaseMessage, OutboxEntry, utcnow

Headers = dict[str, dict[str, str]]
FileReport = Callable[..., Any]
CANARY = "Canary-SHRED-7f3k"
SMS_SCRIPT = ["Hello", "2", "2", "wfp", "2", f"Amina {CANARY}", "1", f"He {CANARY} came."]


@pytest.fixture
def routing_toml(keyring: Keyring) -> str:
    return routing_table_toml(keyring) + '\n[retention]\nclosed_days = {"*" = 0}\n'


@pytest.fixture(autouse=True)
def _sqlite_only(database_url: str) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("the files on disk are SQLite's; PostgreSQL keeps dead tuples until VACUUM")


def _files(context: AppContext) -> bytes:
    database = make_url(context.settings.resolved_database_url).database
    assert database
    chunks = []
    for suffix in ("", "-wal", "-shm", "-journal"):
        path = Path(database + suffix)
        if path.exists():
            chunks.append(path.read_bytes())
    return b"\n".join(chunks)


def _pieces(value: bytes) -> list[bytes]:
    """16-byte pieces of a value: a long one is split over overflow pages on disk."""
    return [value[start : start + 16] for start in range(0, max(1, len(value) - 15), 16)]


def _found(value: bytes, haystack: bytes) -> bool:
    return any(piece in haystack for piece in _pieces(value))


def _envelope_parts(text: str) -> Iterator[bytes]:
    """The base64 texts of an envelope as stored: its ciphertext and every sealed key."""
    envelope = json.loads(text)
    yield envelope["ct"].encode("ascii")
    for recipient in envelope["recipients"]:
        yield recipient["sealed_key"].encode("ascii")


def _stored_ciphertexts(context: AppContext, case_refs: list[str]) -> list[bytes]:
    found: list[bytes] = []
    with context.sessions() as session:
        for case_ref in case_refs:
            case = case_by_ref(session, case_ref)
            found += _envelope_parts(case.envelope)
            for message in session.scalars(
                select(CaseMessage).where(CaseMessage.case_id == case.id)
            ):
                found.append(message.sealed_for_reporter.encode("ascii"))
                found += _envelope_parts(message.envelope)
            route = session.get(SmsReplyRoute, case.id)
            if route is not None:
                found.append(route.route_sealed)
        for payload in session.scalars(
            select(OutboxEntry.payload).where(OutboxEntry.kind == "sms_reply")
        ):
            found += [value.encode("ascii") for value in json.loads(payload).values()]
    return found


def _drafts(context: AppContext) -> list[bytes]:
    with context.sessions() as session:
        return [d for d in session.scalars(select(SmsConversation.draft_sealed)) if d]


def _close(client: TestClient, headers: dict[str, str], case_ref: str) -> None:
    body = {"type": "closed", "outcome": "other"}
    response = client.post(f"/api/v1/cases/{case_ref}/events", json=body, headers=headers)
    assert response.status_code == 201, response.text


def _by_sms(client: TestClient, context: AppContext) -> tuple[str, str, list[bytes]]:
    phone = Phone(client)
    for body in SMS_SCRIPT:
        phone.say(body)
    drafts = _drafts(context)
    phone.say("DONE")
    receipt = receipt_in(phone.say("1"))
    phone.say(f"REPLY {receipt} {CANARY} again")
    with context.sessions() as session:
        case_ref = session.scalars(select(Case.case_ref).where(Case.channel == "sms")).one()
    return case_ref, receipt, drafts


def _by_hotline(client: TestClient, staff: Headers) -> str:
    body = report(narrative=f"Caller says {CANARY}")
    body["call"] = {"started_at": "2026-11-23T17:05:00Z", "duration_s": 60}
    body["call"]["caller_number"] = "+254 711 999 888"
    response = client.post("/api/v1/hotline/reports", json=body, headers=staff["operator"])
    assert response.status_code == 201, response.text
    return str(response.json()["case_ref"])


def _message(client: TestClient, headers: dict[str, str], case_ref: str) -> None:
    body = {"text": f"Answer {CANARY}"}
    response = client.post(f"/api/v1/cases/{case_ref}/messages", json=body, headers=headers)
    assert response.status_code == 201, response.text


def test_no_shredded_ciphertext_is_left_in_any_database_file(
    app: FastAPI, client: TestClient, staff: Headers, file_report: FileReport
) -> None:
    context: AppContext = app.state.context
    web = file_report(narrative=f"Report {CANARY}", location=CANARY)
    sms_ref, sms_receipt, drafts = _by_sms(client, context)
    hotline_ref = _by_hotline(client, staff)
    _message(client, staff["unicef"], web.case_ref)
    _message(client, staff["network"], sms_ref)  # consented SMS: also queued as an SMS
    reply = {"receipt": web.receipt, "text": f"Reply {CANARY}"}
    assert client.post("/api/v1/followup/messages", json=reply).status_code == 201
    refs = [web.case_ref, sms_ref, hotline_ref]
    stored = _stored_ciphertexts(context, refs)
    assert len(stored) > 20
    assert drafts
    before = _files(context)
    assert all(_found(value, before) for value in stored)  # the check below can fail
    _close(client, staff["unicef"], web.case_ref)
    _close(client, staff["network"], sms_ref)
    _close(client, staff["unicef"], hotline_ref)

    shredded = run_retention(context, now=utcnow() + timedelta(minutes=1), actor="test")

    assert shredded.total == 3
    after = _files(context)
    left = [index for index, value in enumerate([*stored, *drafts]) if _found(value, after)]
    assert left == []
    assert CANARY.encode() not in after
    status = client.post("/api/v1/followup", json={"receipt": sms_receipt}).json()
    assert status["messages"] == []
    assert check(context.engine, context.secret) > 0
