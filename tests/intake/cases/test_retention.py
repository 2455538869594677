"""Retention (SPEC 12): closed cases past their period lose their content, keep their facts."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from testkit.cases import case_by_ref
from testkit.keys import Keyring, routing_table_toml
from testkit.staff import page_sign_in

from intake.cases.retention import SHREDDED_SHA256, run_retention
from intake.commands.audit import check
from intake.context import AppContext
from intake.db import transaction
from intake.models import (
    AuditEvent,
    Case,
    CaseAttachment,
    CaseEvent,
    CaseMessage,
    OutboxEntry,
    utcnow,
)
from intake.outbox.enqueue import enqueue
from intake.routing_tables.store import store_table

Headers = dict[str, dict[str, str]]
FileReport = Callable[..., Any]
RETENTION = '\n[retention]\nclosed_days = {"*" = 30, "programme_feedback" = 7}\n'
REPLY = "Canary-RETENTION-reply he came back"
MESSAGE = "Canary-RETENTION-message we are looking into it"


@pytest.fixture
def routing_toml(keyring: Keyring) -> str:
    return routing_table_toml(keyring) + RETENTION


def _context(app: FastAPI) -> AppContext:
    context: AppContext = app.state.context
    return context


def _close(client: TestClient, headers: dict[str, str], case_ref: str) -> None:
    body = {"type": "closed", "outcome": "withdrawn"}
    response = client.post(f"/api/v1/cases/{case_ref}/events", json=body, headers=headers)
    assert response.status_code == 201, response.text


def _case(app: FastAPI, case_ref: str) -> Case:
    with _context(app).sessions() as session:
        return case_by_ref(session, case_ref)


def _run(app: FastAPI, *, days: float, dry_run: bool = False) -> dict[str, int]:
    now = utcnow() + timedelta(days=days)
    report = run_retention(_context(app), now=now, actor="test", dry_run=dry_run)
    return dict(report.by_category)


def _messages(app: FastAPI, case_ref: str) -> int:
    with _context(app).sessions() as session:
        case = case_by_ref(session, case_ref)
        query = select(func.count()).where(CaseMessage.case_id == case.id)
        return int(session.scalar(query) or 0)


def _exchange(client: TestClient, staff: Headers, case_ref: str, receipt: str) -> None:
    sent = client.post(
        f"/api/v1/cases/{case_ref}/messages", json={"text": MESSAGE}, headers=staff["unicef"]
    )
    assert sent.status_code == 201, sent.text
    replied = client.post("/api/v1/followup/messages", json={"receipt": receipt, "text": REPLY})
    assert replied.status_code == 201, replied.text


def test_the_dry_run_counts_by_category_and_changes_nothing(
    app: FastAPI, client: TestClient, staff: Headers, file_report: FileReport
) -> None:
    abuse = [file_report() for _ in range(2)]
    feedback = file_report(category="programme_feedback", affiliation="unknown")
    for filed in abuse:
        _close(client, staff["unicef"], filed.case_ref)
    _close(client, staff["network"], feedback.case_ref)
    before = [_case(app, filed.case_ref).envelope for filed in (*abuse, feedback)]
    assert _run(app, days=31, dry_run=True) == {"sexual_abuse": 2, "programme_feedback": 1}
    after = [_case(app, filed.case_ref) for filed in (*abuse, feedback)]
    assert [case.envelope for case in after] == before
    assert all(case.shredded_at is None for case in after)


def test_a_shredded_case_keeps_its_facts_and_loses_every_sealed_value(
    app: FastAPI, client: TestClient, staff: Headers, file_report: FileReport
) -> None:
    filed = file_report(consent={"refer_to_services": False})
    referred = client.post(
        f"/api/v1/cases/{filed.case_ref}/events",
        json={"type": "referred", "to": "assistance", "override_reason": "Canary-OVERRIDE"},
        headers=staff["unicef"],
    )
    assert referred.status_code == 201, referred.text
    _exchange(client, staff, filed.case_ref, filed.receipt)
    _close(client, staff["unicef"], filed.case_ref)
    kept = _case(app, filed.case_ref)
    assert _run(app, days=31) == {"sexual_abuse": 1}
    case = _case(app, filed.case_ref)
    assert case.envelope == ""
    assert case.envelope_sha256 == SHREDDED_SHA256
    assert case.shredded_at is not None
    assert _messages(app, filed.case_ref) == 0
    facts = ("case_ref", "country", "category", "affiliation", "status", "received_at", "due_at")
    assert [getattr(case, name) for name in facts] == [getattr(kept, name) for name in facts]
    assert case.receipt_lookup == kept.receipt_lookup  # follow-up still answers the status
    with _context(app).sessions() as session:
        details = session.scalars(select(CaseEvent.detail).where(CaseEvent.case_id == case.id))
        texts = [json.loads(detail or "{}") for detail in details]
    assert {"to": "assistance", "override": True} in texts
    assert not any("override_reason_sealed" in detail for detail in texts)


def test_detail_summary_and_follow_up_of_a_shredded_case(
    app: FastAPI, client: TestClient, staff: Headers, file_report: FileReport
) -> None:
    filed, other = file_report(), file_report()
    _exchange(client, staff, filed.case_ref, filed.receipt)
    _close(client, staff["unicef"], filed.case_ref)
    _run(app, days=31)
    detail = client.get(f"/api/v1/cases/{filed.case_ref}", headers=staff["unicef"])
    assert detail.status_code == 200
    body = detail.json()
    assert body["shredded_at"].endswith("Z")
    assert "envelope" not in body
    assert "messages" not in body
    assert [event["type"] for event in body["events"]] == ["routed", "closed"]
    kept = client.get(f"/api/v1/cases/{other.case_ref}", headers=staff["unicef"]).json()
    assert kept["shredded_at"] is None
    assert "envelope" in kept
    assert "messages" in kept
    listed = client.get("/api/v1/cases", headers=staff["unicef"]).json()["items"]
    by_ref = {item["case_ref"]: item["shredded_at"] for item in listed}
    assert by_ref[other.case_ref] is None
    assert by_ref[filed.case_ref] == body["shredded_at"]
    followup = client.post("/api/v1/followup", json={"receipt": filed.receipt})
    assert followup.status_code == 200
    assert followup.json()["status"] == "closed"
    assert followup.json()["messages"] == []


def test_role_rules_are_unchanged_for_a_shredded_case(
    app: FastAPI, client: TestClient, staff: Headers, file_report: FileReport
) -> None:
    filed = file_report()
    _close(client, staff["unicef"], filed.case_ref)
    _run(app, days=31)
    url = f"/api/v1/cases/{filed.case_ref}"
    assert client.get(url, headers=staff["wfp"]).status_code == 404
    assert client.get(url, headers=staff["coord-ke"]).status_code == 403
    assert client.get(url, headers=staff["operator"]).status_code == 403
    assert client.get(url).status_code == 401


def test_a_shredded_case_takes_no_new_sealed_data(
    app: FastAPI, client: TestClient, staff: Headers, file_report: FileReport
) -> None:
    filed = file_report()
    _close(client, staff["unicef"], filed.case_ref)
    _run(app, days=31)
    sent = client.post(
        f"/api/v1/cases/{filed.case_ref}/messages", json={"text": "x"}, headers=staff["unicef"]
    )
    assert sent.status_code == 409
    reply = client.post("/api/v1/followup/messages", json={"receipt": filed.receipt, "text": "y"})
    assert reply.status_code == 409
    assert _messages(app, filed.case_ref) == 0


def test_only_closed_cases_past_their_category_period_go(
    app: FastAPI, client: TestClient, staff: Headers, file_report: FileReport
) -> None:
    still_open = file_report()
    abuse = file_report()
    feedback = file_report(category="programme_feedback", affiliation="unknown")
    _close(client, staff["unicef"], abuse.case_ref)
    _close(client, staff["network"], feedback.case_ref)
    assert _run(app, days=6) == {}
    assert _run(app, days=8) == {"programme_feedback": 1}
    assert _case(app, abuse.case_ref).shredded_at is None
    assert _run(app, days=29) == {}
    assert _run(app, days=31) == {"sexual_abuse": 1}
    assert _run(app, days=3650) == {}  # each once
    assert _case(app, still_open.case_ref).shredded_at is None
    assert _case(app, still_open.case_ref).envelope != ""


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        ('{"*" = 0}', {"sexual_abuse": 1, "programme_feedback": 1}),
        ("{sexual_abuse = 0}", {"sexual_abuse": 1}),  # no "*": the other categories stay
    ],
)
def test_zero_days_shreds_at_the_next_run(
    app: FastAPI,
    client: TestClient,
    staff: Headers,
    file_report: FileReport,
    keyring: Keyring,
    section: str,
    expected: dict[str, int],
) -> None:
    _load(app, keyring, f"\n[retention]\nclosed_days = {section}\n")
    filed = file_report()
    feedback = file_report(category="programme_feedback", affiliation="unknown")
    _close(client, staff["unicef"], filed.case_ref)
    _close(client, staff["network"], feedback.case_ref)
    assert _run(app, days=0) == expected


def test_without_a_retention_section_nothing_is_shredded(
    app: FastAPI, client: TestClient, staff: Headers, file_report: FileReport, keyring: Keyring
) -> None:
    _load(app, keyring, "")
    filed = file_report()
    _close(client, staff["unicef"], filed.case_ref)
    assert _run(app, days=36500, dry_run=True) == {}
    assert _run(app, days=36500) == {}
    assert _case(app, filed.case_ref).shredded_at is None


def test_the_audit_trail_records_each_shred_once_and_still_verifies(
    app: FastAPI, client: TestClient, staff: Headers, file_report: FileReport
) -> None:
    filed = [file_report() for _ in range(3)]
    for item in filed:
        _exchange(client, staff, item.case_ref, item.receipt)
        _close(client, staff["unicef"], item.case_ref)
    client.get(f"/api/v1/cases/{filed[0].case_ref}", headers=staff["unicef"])
    _run(app, days=31)
    _run(app, days=32)
    client.get(f"/api/v1/cases/{filed[0].case_ref}", headers=staff["unicef"])  # a read after
    context = _context(app)
    with context.sessions() as session:
        shredded = session.scalars(
            select(AuditEvent.case_ref).where(AuditEvent.action == "case.shredded")
        ).all()
    assert sorted(shredded) == sorted(item.case_ref for item in filed)
    assert check(context.engine, context.secret) > 0


def test_the_staff_page_says_when_the_content_was_destroyed(
    app: FastAPI, client: TestClient, staff: Headers, file_report: FileReport, staff_password: str
) -> None:
    filed = file_report()
    _close(client, staff["unicef"], filed.case_ref)
    _run(app, days=31)
    page = _signed_in_page(client, staff_password, f"/inbox/cases/{filed.case_ref}?lang=fr")
    assert 'id="shredded"' in page
    assert "case-page.js" not in page
    assert 'id="open-form"' not in page
    assert "détruit" in page


def _signed_in_page(client: TestClient, password: str, path: str) -> str:
    assert page_sign_in(client, "unicef", password).status_code == 303
    response = client.get(path)
    assert response.status_code == 200, response.text
    return response.text


def _load(app: FastAPI, keyring: Keyring, retention: str) -> None:
    """A newer routing table, now the active one, with this `[retention]` (or none)."""
    text = routing_table_toml(keyring, version="test-2") + retention
    with transaction(_context(app).sessions) as session:
        store_table(session, text, loaded_by="test")


def test_a_voice_case_loses_its_sealed_audio_and_keeps_the_twilio_deletion(
    app: FastAPI, client: TestClient, staff: Headers, file_report: FileReport
) -> None:
    filed = file_report()
    context = _context(app)
    with transaction(context.sessions) as session:
        case = case_by_ref(session, filed.case_ref)
        attachment = CaseAttachment(
            case_id=case.id, kind="audio", status="attached", envelope=case.envelope
        )
        session.add(attachment)
        session.flush()
        enqueue(session, "voice_recording", {"attachment_id": attachment.id}, dedupe_key="v:1")
    _close(client, staff["unicef"], filed.case_ref)
    _run(app, days=31)
    with context.sessions() as session:
        case = case_by_ref(session, filed.case_ref)
        left = session.scalar(select(func.count()).where(CaseAttachment.case_id == case.id))
        fetch = session.scalar(select(func.count()).where(OutboxEntry.dedupe_key == "v:1"))
    assert left == 0
    assert fetch == 1  # sealed SIDs only: the recording is still deleted at Twilio
    body = client.get(f"/api/v1/cases/{filed.case_ref}", headers=staff["unicef"]).json()
    assert body["attachments"] == []
    assert body["audio"] is None
