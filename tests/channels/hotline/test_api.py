"""POST /api/v1/hotline/reports: a live call, entered by an operator, opened by the recipient."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from testkit.cases import case_by_ref, open_case, report
from testkit.keys import Keyring

from crypto.errors import EnvelopeError
from intake.models import AuditEvent, Case, CaseEvent

URL = "/api/v1/hotline/reports"
CALLER = "+254 711 222 333"


def _call(**overrides: Any) -> dict[str, Any]:
    body = report(
        reporter_type="named",
        language="sw",
        reporter={"name": "Mama Achieng", "contact": "ask for her at the market"},
        consent={"contact_me": True, "share_with_investigators": True},
        narrative="The food distributor asked my daughter for sex before giving rations.",
        victim_is_child=True,
        victim={"name": "Achieng", "age": 15, "sex": "female"},
    )
    body["call"] = {
        "started_at": "2026-11-23T17:05:00+03:00",
        "duration_s": 540,
        "caller_number": CALLER,
    }
    body.update(overrides)
    return body


def _case(app: FastAPI, case_ref: str) -> Case:
    with app.state.context.sessions() as session:
        case = case_by_ref(session, case_ref)
        _ = case.recipients
        return case


def test_a_live_call_is_routed_and_only_the_recipients_open_it(
    app: FastAPI, client: TestClient, headers: dict[str, dict[str, str]], keyring: Keyring
) -> None:
    body = _call()
    response = client.post(URL, json=body, headers=headers["op-amina"])
    assert response.status_code == 201, response.text
    answer = response.json()
    assert set(answer) == {"case_ref", "receipt", "status"}
    assert answer["status"] == "routed"
    assert re.fullmatch(r"\d{4} \d{4} \d{4} \d{4}", answer["receipt"])

    case = _case(app, answer["case_ref"])
    assert case.channel == "hotline"
    assert case.language == "sw"
    assert case.recipient_ids == ["ke-unicef", "ke-coordinator"]
    assert not hasattr(case, "call_started_at")  # SPEC 15: call times are sealed, not clear
    content = open_case(case, keyring.pairs["ke-unicef"])
    assert content["call"] == {"started_at": "2026-11-23T14:05:00Z", "duration_s": 540}
    assert content["caller_number"] == CALLER
    assert content["narrative"] == body["narrative"]
    assert content["reporter"] == body["reporter"]
    assert content["victim"] == body["victim"]
    with pytest.raises(EnvelopeError):
        open_case(case, keyring.pairs["so-unhcr"])


def test_the_operator_is_the_actor_of_the_case(
    app: FastAPI, client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    case_ref = client.post(URL, json=_call(), headers=headers["op-amina"]).json()["case_ref"]
    with app.state.context.sessions() as session:
        case = case_by_ref(session, case_ref)
        event = session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)).one()
        entry = session.scalars(select(AuditEvent).where(AuditEvent.case_ref == case_ref)).one()
    assert event.actor == "op-amina"
    assert entry.actor == "op-amina"
    assert json.loads(entry.detail)["channel"] == "hotline"


def test_call_metadata_is_optional_and_the_number_is_then_null(
    app: FastAPI, client: TestClient, headers: dict[str, dict[str, str]], keyring: Keyring
) -> None:
    response = client.post(URL, json=report(), headers=headers["op-amina"])
    assert response.status_code == 201, response.text
    case = _case(app, response.json()["case_ref"])
    content = open_case(case, keyring.pairs["ke-unicef"])
    assert content["caller_number"] is None
    assert "call" not in content


def test_without_a_token_it_is_401(client: TestClient) -> None:
    response = client.post(URL, json=_call())
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert {"type", "title", "status", "detail"} <= set(response.json())
    bad = client.post(URL, json=_call(), headers={"Authorization": "Bearer not-a-token"})
    assert bad.status_code == 401


@pytest.mark.parametrize("username", ["fp-unicef", "coord-ke", "admin"])
def test_other_roles_get_403(
    app: FastAPI, client: TestClient, headers: dict[str, dict[str, str]], username: str
) -> None:
    response = client.post(URL, json=_call(), headers=headers[username])
    assert response.status_code == 403
    assert response.json()["status"] == 403
    with app.state.context.sessions() as session:
        assert session.scalars(select(Case)).first() is None


def test_the_operator_cannot_read_the_case_back(
    client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    case_ref = client.post(URL, json=_call(), headers=headers["op-amina"]).json()["case_ref"]
    assert client.get(f"/api/v1/cases/{case_ref}", headers=headers["op-amina"]).status_code == 403
    assert client.get("/api/v1/cases", headers=headers["op-amina"]).status_code == 403


@pytest.mark.parametrize(
    ("call", "field", "code"),
    [
        ({"duration_s": -1}, "duration_s", "greater_than_equal"),
        ({"duration_s": 86_401}, "duration_s", "less_than_equal"),
        ({"duration_s": "60"}, "duration_s", "int_type"),
        ({"started_at": "2026-11-23T14:05:00"}, "started_at", "timezone_aware"),
        ({"started_at": "yesterday"}, "started_at", "datetime_from_date_parsing"),
        ({"caller_number": CALLER * 10}, "caller_number", "string_too_long"),
        # An unknown field's name is submitted text: the error points at its object.
        ({"operator_note": "x"}, None, "extra_forbidden"),
    ],
)
def test_bad_call_metadata_is_a_422_that_never_echoes(
    client: TestClient,
    headers: dict[str, dict[str, str]],
    call: dict[str, Any],
    field: str | None,
    code: str,
) -> None:
    response = client.post(
        URL, json=_call(call={"caller_number": CALLER, **call}), headers=headers["op-amina"]
    )
    assert response.status_code == 422
    errors = response.json()["errors"]
    loc = ["call", field] if field else ["call"]
    assert {"loc": loc, "type": code} in [
        {"loc": error["loc"], "type": error["type"]} for error in errors
    ]
    for value in ("711 222", "yesterday", "Achieng", "daughter"):
        assert value not in response.text
