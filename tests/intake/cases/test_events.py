"""Lifecycle events: order, skips, 409s, the assistance consent rule, the overdue clock."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from testkit.cases import case_by_ref
from testkit.keys import Keyring

from crypto.envelope import case_aad, open_envelope
from intake.models import AuditEvent, CaseEvent

Headers = dict[str, dict[str, str]]
FileReport = Callable[..., Any]


def post_event(client: TestClient, headers: dict[str, str], case_ref: str, **body: Any) -> Any:
    return client.post(f"/api/v1/cases/{case_ref}/events", json=body, headers=headers)


def events_of(app: FastAPI, case_ref: str) -> list[CaseEvent]:
    with app.state.context.sessions() as session:
        case = case_by_ref(session, case_ref)
        return list(
            session.scalars(
                select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
            )
        )


def test_the_full_lifecycle_in_order(
    app: FastAPI, client: TestClient, staff: Headers, file_report: FileReport
) -> None:
    case_ref = file_report().case_ref
    steps: list[dict[str, Any]] = [
        {"type": "acknowledged"},
        {"type": "referred", "to": "investigation"},
        {"type": "investigating"},
        {"type": "closed", "outcome": "substantiated"},
    ]
    for step in steps:
        response = post_event(client, staff["unicef"], case_ref, **step)
        assert response.status_code == 201, response.text
        assert response.json()["status"] == step["type"]
    events = events_of(app, case_ref)
    assert [event.type for event in events] == [
        "routed",
        "acknowledged",
        "referred",
        "investigating",
        "closed",
    ]
    assert events[1].actor == "unicef"
    assert json.loads(events[2].detail or "{}") == {"to": "investigation"}
    assert json.loads(events[4].detail or "{}") == {"outcome": "substantiated"}
    with app.state.context.sessions() as session:
        case = case_by_ref(session, case_ref)
        assert case.status == "closed"
        assert case.acknowledged_at == events[1].at
        assert case.updated_at == events[4].at


def test_skipping_forward_is_allowed_and_stops_the_overdue_clock(
    app: FastAPI, client: TestClient, staff: Headers, file_report: FileReport
) -> None:
    case_ref = file_report().case_ref
    response = post_event(client, staff["unicef"], case_ref, type="investigating")
    assert response.status_code == 201
    with app.state.context.sessions() as session:
        assert case_by_ref(session, case_ref).acknowledged_at is not None


@pytest.mark.parametrize(
    ("first", "then"),
    [
        ({"type": "acknowledged"}, {"type": "acknowledged"}),
        ({"type": "investigating"}, {"type": "referred", "to": "investigation"}),
        ({"type": "investigating"}, {"type": "acknowledged"}),
        ({"type": "closed", "outcome": "withdrawn"}, {"type": "investigating"}),
        ({"type": "closed", "outcome": "withdrawn"}, {"type": "closed", "outcome": "other"}),
    ],
)
def test_backward_or_repeated_steps_are_409(
    app: FastAPI,
    client: TestClient,
    staff: Headers,
    file_report: FileReport,
    first: dict[str, Any],
    then: dict[str, Any],
) -> None:
    case_ref = file_report().case_ref
    assert post_event(client, staff["unicef"], case_ref, **first).status_code == 201
    response = post_event(client, staff["unicef"], case_ref, **then)
    assert response.status_code == 409
    assert response.json()["status"] == 409
    assert len(events_of(app, case_ref)) == 2


@pytest.mark.parametrize(
    "body",
    [
        {"type": "routed"},
        {"type": "referred"},
        {"type": "referred", "to": "police"},
        {"type": "acknowledged", "to": "investigation"},
        {"type": "closed"},
        {"type": "closed", "outcome": "solved"},
        {"type": "acknowledged", "outcome": "other"},
        {"type": "referred", "to": "investigation", "override_reason": "urgent"},
        {"type": "referred", "to": "assistance", "override_reason": "  "},
        {"type": "acknowledged", "note": "x"},
    ],
)
def test_malformed_events_are_422(
    client: TestClient, staff: Headers, file_report: FileReport, body: dict[str, Any]
) -> None:
    case_ref = file_report().case_ref
    response = client.post(f"/api/v1/cases/{case_ref}/events", json=body, headers=staff["unicef"])
    assert response.status_code == 422


def test_assistance_needs_consent_or_a_recorded_override(
    app: FastAPI, client: TestClient, staff: Headers, file_report: FileReport, keyring: Keyring
) -> None:
    without = file_report().case_ref
    refused = post_event(client, staff["unicef"], without, type="referred", to="assistance")
    assert refused.status_code == 409
    assert "consent" in refused.json()["detail"]
    reason = "Survivor is in danger tonight and asked for shelter by phone."
    response = post_event(
        client, staff["unicef"], without, type="referred", to="assistance", override_reason=reason
    )
    assert response.status_code == 201
    event = events_of(app, without)[-1]
    detail = json.loads(event.detail or "{}")
    assert detail["override"] is True
    assert detail["to"] == "assistance"
    assert reason not in (event.detail or "")  # sealed, not clear
    opened = open_envelope(
        detail["override_reason_sealed"],
        private_key=keyring.pairs["ke-unicef"].private_key,
        aad=case_aad(without),
    )
    assert opened == {"override_reason": reason}
    with app.state.context.sessions() as session:
        entry = session.scalars(select(AuditEvent).where(AuditEvent.action == "case.event")).one()
    assert json.loads(entry.detail)["override"] is True
    assert reason not in entry.detail

    consented = file_report(consent={"refer_to_services": True}).case_ref
    response = post_event(client, staff["unicef"], consented, type="referred", to="assistance")
    assert response.status_code == 201
    assert json.loads(events_of(app, consented)[-1].detail or "{}") == {"to": "assistance"}


def test_the_reporter_sees_the_status_at_follow_up(
    client: TestClient, staff: Headers, file_report: FileReport
) -> None:
    filed = file_report()
    post_event(client, staff["unicef"], filed.case_ref, type="acknowledged")
    response = client.post("/api/v1/followup", json={"receipt": filed.receipt})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "acknowledged"
