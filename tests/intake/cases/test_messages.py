"""Messages to the reporter: sealed twice, never clear, queued by SMS only with consent."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from testkit.cases import case_by_ref, report
from testkit.keys import Keyring

from channels.sms import store as sms_store
from crypto.envelope import case_aad, open_envelope
from crypto.receipt import open_with_keypair
from crypto.secretbox import open_draft
from intake.models import CaseMessage, OutboxEntry
from intake.reports.receipts import derive_for
from intake.reports.schemas import ReportIn
from intake.reports.service import submit
from intake.reports.submission import Submission

Headers = dict[str, dict[str, str]]
FileReport = Callable[..., Any]
CANARY = "Canary-7Q: we will meet you at the clinic on Tuesday."


def messages_of(app: FastAPI, case_ref: str) -> list[CaseMessage]:
    with app.state.context.sessions() as session:
        case = case_by_ref(session, case_ref)
        return list(session.scalars(select(CaseMessage).where(CaseMessage.case_id == case.id)))


def test_a_message_is_sealed_to_the_receipt_and_to_the_recipients(
    app: FastAPI, client: TestClient, staff: Headers, file_report: FileReport, keyring: Keyring
) -> None:
    filed = file_report()
    response = client.post(
        f"/api/v1/cases/{filed.case_ref}/messages", json={"text": CANARY}, headers=staff["unicef"]
    )
    assert response.status_code == 201, response.text
    assert response.json()["sms_queued"] is False
    assert response.json()["at"].endswith("Z")
    (stored,) = messages_of(app, filed.case_ref)
    assert stored.author == "unicef"
    reporter = derive_for(app.state.context, filed.receipt).keypair
    assert open_with_keypair(stored.sealed_for_reporter, reporter) == CANARY
    for holder in ("ke-unicef", "ke-coordinator", "escrow"):
        opened = open_envelope(
            json.loads(stored.envelope),
            private_key=keyring.pairs[holder].private_key,
            aad=case_aad(filed.case_ref),
        )
        assert opened == {"text": CANARY}
    followup = client.post("/api/v1/followup", json={"receipt": filed.receipt}).json()
    assert [message["text"] for message in followup["messages"]] == [CANARY]


def test_no_message_text_is_stored_in_clear(
    app: FastAPI, client: TestClient, staff: Headers, file_report: FileReport
) -> None:
    case_ref = file_report().case_ref
    client.post(
        f"/api/v1/cases/{case_ref}/messages", json={"text": CANARY}, headers=staff["unicef"]
    )
    with app.state.context.sessions() as session:
        for table in ("case_messages", "audit_events", "outbox", "cases", "case_events"):
            rows = session.execute(text(f"SELECT * FROM {table}")).all()  # noqa: S608
            assert "Canary-7Q" not in repr(rows)


@pytest.mark.parametrize("body", [{"text": ""}, {"text": "   "}, {"text": "x" * 5001}, {}])
def test_empty_or_long_messages_are_422(
    client: TestClient, staff: Headers, file_report: FileReport, body: dict[str, str]
) -> None:
    case_ref = file_report().case_ref
    response = client.post(f"/api/v1/cases/{case_ref}/messages", json=body, headers=staff["unicef"])
    assert response.status_code == 422


def test_a_5000_character_message_is_kept_exactly(
    app: FastAPI, client: TestClient, staff: Headers, file_report: FileReport
) -> None:
    filed = file_report()
    message = " ابدأ " + "é" * 4994  # code points, not bytes; spaces kept
    assert len(message) == 5000
    response = client.post(
        f"/api/v1/cases/{filed.case_ref}/messages", json={"text": message}, headers=staff["unicef"]
    )
    assert response.status_code == 201
    (stored,) = messages_of(app, filed.case_ref)
    reporter = derive_for(app.state.context, filed.receipt).keypair
    assert open_with_keypair(stored.sealed_for_reporter, reporter) == message


REPORTER = "+254711000222"


def _sms_case(app: FastAPI, *, contact_me: bool) -> str:
    context = app.state.context
    body = report(consent={"contact_me": contact_me})
    accepted = submit(
        context,
        Submission(
            report=ReportIn.model_validate(body),
            channel="sms",
            language="en",
            on_stored=lambda session, accepted: (
                sms_store.keep_reply_route(
                    session, context.secret, accepted.case_id, to=REPORTER, sender="+254700000001"
                )
                if contact_me
                else None
            ),
        ),
    )
    return accepted.case_ref


@pytest.mark.parametrize("contact_me", [True, False])
def test_sms_cases_queue_a_sealed_reply_only_with_consent(
    app: FastAPI, client: TestClient, staff: Headers, contact_me: bool
) -> None:
    case_ref = _sms_case(app, contact_me=contact_me)
    response = client.post(
        f"/api/v1/cases/{case_ref}/messages", json={"text": CANARY}, headers=staff["unicef"]
    )
    assert response.status_code == 201
    assert response.json()["sms_queued"] is contact_me
    with app.state.context.sessions() as session:
        entries = list(session.scalars(select(OutboxEntry).where(OutboxEntry.kind == "sms_reply")))
    if not contact_me:
        assert entries == []
        return
    (entry,) = entries
    payload = json.loads(entry.payload)
    assert set(payload) == {"to_sealed", "body_sealed"}
    secret = app.state.context.secret
    route = json.loads(open_draft(secret, base64.b64decode(payload["to_sealed"])))
    assert route == {"to": REPORTER, "from": "+254700000001"}
    assert open_draft(secret, base64.b64decode(payload["body_sealed"])).decode() == CANARY
