"""POST /api/v1/reports end to end: routed, sealed, readable only by recipients."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from testkit.cases import case_by_ref, open_case, report
from testkit.keys import Keyring

from crypto.errors import EnvelopeError


def _case(app: FastAPI, case_ref: str) -> Any:
    with app.state.context.sessions() as session:
        case = case_by_ref(session, case_ref)
        _ = case.recipients
        return case


@pytest.mark.parametrize(
    ("extra", "reporter_type"),
    [
        ({}, "anonymous"),
        ({"reporter": {"name": "Amina W.", "contact": "+254711000111"}}, "named"),
        (
            {
                "victim": {"name": "Neighbour's girl", "age": 14, "sex": "female"},
                "victim_is_child": True,
            },
            "third_party",
        ),
    ],
)
def test_each_reporter_type_is_routed_and_sealed(
    app: FastAPI, client: TestClient, keyring: Keyring, extra: dict[str, Any], reporter_type: str
) -> None:
    body = report(reporter_type=reporter_type, **extra)
    response = client.post("/api/v1/reports", json=body)
    assert response.status_code == 201, response.text
    answer = response.json()
    assert answer["status"] == "routed"
    assert re.fullmatch(r"\d{4} \d{4} \d{4} \d{4}", answer["receipt"])
    case = _case(app, answer["case_ref"])
    assert case.recipient_ids == ["ke-unicef", "ke-coordinator"]
    assert case.rule_id == "ke-sea-unicef"
    assert case.table_version == "test-1"
    content = open_case(case, keyring.pairs["ke-unicef"])
    assert content["narrative"] == body["narrative"]
    assert content["reporter"] == body.get("reporter")
    assert open_case(case, keyring.pairs["escrow"])["narrative"] == body["narrative"]
    with pytest.raises(EnvelopeError):
        open_case(case, keyring.pairs["so-unhcr"])


def test_due_at_follows_the_rule_deadline(app: FastAPI, client: TestClient) -> None:
    answer = client.post(
        "/api/v1/reports", json=report(affiliation="WFP", victim_is_child=True)
    ).json()
    case = _case(app, answer["case_ref"])
    assert case.rule_id == "ke-sea-wfp-child"
    assert (case.due_at - case.received_at).total_seconds() == 12 * 3600


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (report(reporter_type="robot"), "literal_error"),
        (report(country="ke"), "country_unknown"),
        (report(country="XX"), "country_unknown"),
        (report(category="gossip"), "literal_error"),
        (report(narrative=""), "narrative_required"),
        (report(narrative="x" * 20_001), "narrative_too_long"),
        (report(incident_date="2999-01-01"), "date_in_future"),
        (report(incident_date="01/02/2026"), "date_invalid"),
        (report(reporter={"name": "A"}), "reporter_not_anonymous"),
        (report(reporter_type="named"), "reporter_required"),
        (report(reporter_type="named", reporter={"name": "", "contact": ""}), "reporter_required"),
        (report(victim={"age": "ten"}), "int_type"),
        (report(victim={"sex": "unknown"}), "literal_error"),
        (report(victim_is_child="yes"), "bool_type"),
        (report(consent={"contact_me": "true"}), "bool_type"),
        (report(unexpected=1), "extra_forbidden"),
        (report(narrative="a\x00b"), "nul_character"),
        (report(narrative=...), "missing"),
    ],
)
def test_every_rule_is_a_422_problem_that_never_echoes(
    client: TestClient, body: dict[str, Any], code: str
) -> None:
    response = client.post("/api/v1/reports", json=body)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert {"type", "title", "status", "detail"} <= set(problem)
    assert code in [error["type"] for error in problem["errors"]]
    for value in ("robot", "gossip", "ten", "2999-01-01", "01/02/2026"):
        assert value not in response.text


@pytest.mark.parametrize(
    "raw",
    [
        r'"narrative": "a\ud800b"',
        r'"narrative": "a", "location": "\udfff"',
        r'"narrative": "a", "\ud83d": 1',
    ],
)
def test_a_lone_surrogate_is_a_422_not_a_500(client: TestClient, raw: str) -> None:
    # JSON can spell a lone surrogate, which no UTF-8 text (and so no envelope) can hold.
    body = '{"reporter_type": "anonymous", "country": "KE", "category": "other", ' + raw + "}"
    response = client.post(
        "/api/v1/reports", content=body.encode(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert "lone_surrogate" in [error["type"] for error in response.json()["errors"]]


def test_an_unknown_field_name_is_not_echoed(client: TestClient) -> None:
    body = {**report(), "CANARY-key": "x", "consent": {"CANARY-nested": True}}
    response = client.post("/api/v1/reports", json=body)
    assert response.status_code == 422
    assert "CANARY" not in response.text
    errors = response.json()["errors"]
    assert {"loc": ["consent"], "type": "extra_forbidden"} in [
        {"loc": error["loc"], "type": error["type"]} for error in errors
    ]


def test_malformed_json_is_a_4xx_problem(client: TestClient) -> None:
    response = client.post(
        "/api/v1/reports", content=b'{"narrative": ', headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["status"] == 422


def test_repr_of_a_report_shows_no_sealed_field() -> None:
    from intake.reports.schemas import ReportIn

    parsed = ReportIn.model_validate(
        report(
            reporter_type="third_party",
            narrative="CANARY-narr",
            location="CANARY-loc",
            incident_date="2020-01-02",
            victim={"name": "CANARY-victim", "age": 9},
        )
    )
    text = repr(parsed) + str(parsed)
    for canary in ("CANARY-narr", "CANARY-loc", "CANARY-victim", "2020-01-02"):
        assert canary not in text
    assert "third_party" in text
