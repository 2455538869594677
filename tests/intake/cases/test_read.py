"""Lists and detail: who sees which case, filters, cursors, and the audit of every look."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from testkit.keys import Keyring

from crypto.envelope import case_aad, open_envelope
from intake.models import AuditEvent, Case, utcnow

Headers = dict[str, dict[str, str]]
FileReport = Callable[..., Any]
DETAIL_ADDITIONS = {"receipt_public_key", "recipient_keys", "consent", "events", "messages"}
SUMMARY_FIELDS = {
    "case_ref",
    "received_at",
    "channel",
    "reporter_type",
    "country",
    "category",
    "affiliation",
    "victim_is_child",
    "status",
    "due_at",
    "overdue",
    "recipients",
    "audio",  # SPEC 17: null unless the case has a spoken account
    "shredded_at",  # SPEC 12: null until retention destroys the content
}


def refs(client: TestClient, headers: dict[str, str], query: str = "") -> list[str]:
    response = client.get(f"/api/v1/cases{query}", headers=headers)
    assert response.status_code == 200, response.text
    return [item["case_ref"] for item in response.json()["items"]]


def audit_entries(app: FastAPI, action: str) -> list[AuditEvent]:
    with app.state.context.sessions() as session:
        return list(
            session.scalars(
                select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
            )
        )


def test_focal_points_and_coordinators_see_exactly_their_cases(
    client: TestClient, staff: Headers, file_report: FileReport
) -> None:
    unicef_case = file_report().case_ref  # ke-unicef + ke-coordinator (cc)
    wfp_case = file_report(affiliation="WFP", victim_is_child=True).case_ref  # ke-wfp + cc
    somalia_case = file_report(country="SO").case_ref  # so-unhcr
    assert refs(client, staff["unicef"]) == [unicef_case]
    assert refs(client, staff["wfp"]) == [wfp_case]
    assert refs(client, staff["network"]) == [wfp_case, unicef_case]
    assert refs(client, staff["unhcr"]) == [somalia_case]
    assert refs(client, staff["coord-ke"]) == [wfp_case, unicef_case]
    assert refs(client, staff["coord-so"]) == [somalia_case]


def test_summary_has_exactly_the_spec_fields(
    client: TestClient, staff: Headers, file_report: FileReport
) -> None:
    case_ref = file_report(victim_is_child=None).case_ref
    body = client.get("/api/v1/cases", headers=staff["coord-ke"]).json()
    assert body["next"] is None
    (item,) = body["items"]
    assert set(item) == SUMMARY_FIELDS
    assert item["case_ref"] == case_ref
    assert item["channel"] == "api"
    assert item["status"] == "routed"
    assert item["overdue"] is False
    assert item["victim_is_child"] is None
    assert item["recipients"] == ["ke-unicef", "ke-coordinator"]
    assert item["audio"] is None
    assert item["shredded_at"] is None
    for field in ("received_at", "due_at"):
        assert item[field].endswith("Z")
        assert "T" in item[field]
    assert "envelope" not in item


def test_detail_gives_the_envelope_to_a_recipient_only(
    app: FastAPI, client: TestClient, staff: Headers, file_report: FileReport, keyring: Keyring
) -> None:
    case_ref = file_report(narrative="The guard took money.").case_ref
    response = client.get(f"/api/v1/cases/{case_ref}", headers=staff["unicef"])
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert set(body) == SUMMARY_FIELDS | {"envelope", "routing", "attachments"} | DETAIL_ADDITIONS
    assert body["routing"] == {"rule": "ke-sea-unicef", "table_version": "test-1"}
    content = open_envelope(
        body["envelope"],
        private_key=keyring.pairs["ke-unicef"].private_key,
        aad=case_aad(case_ref),
    )
    assert content["narrative"] == "The guard took money."
    with app.state.context.sessions() as session:
        stored = session.scalars(select(Case).where(Case.case_ref == case_ref)).one()
    (read,) = audit_entries(app, "case.read")
    assert (read.actor, read.case_ref) == ("unicef", case_ref)
    assert json.loads(read.detail) == {"envelope_sha256": stored.envelope_sha256}


def test_a_case_outside_reach_is_not_found_exactly_like_a_missing_one(
    client: TestClient, staff: Headers, file_report: FileReport
) -> None:
    case_ref = file_report().case_ref
    other = client.get(f"/api/v1/cases/{case_ref}", headers=staff["wfp"])
    missing = client.get("/api/v1/cases/C-000000000000", headers=staff["wfp"])
    assert other.status_code == missing.status_code == 404
    assert other.json() == missing.json()
    assert other.headers["content-type"].startswith("application/problem+json")
    assert case_ref not in other.text
    for path in ("events", "messages"):
        body = {"type": "acknowledged"} if path == "events" else {"text": "hello"}
        answer = client.post(f"/api/v1/cases/{case_ref}/{path}", json=body, headers=staff["wfp"])
        assert answer.status_code == 404


def test_filters_by_status_and_overdue(
    app: FastAPI, client: TestClient, staff: Headers, file_report: FileReport
) -> None:
    late, fresh, acknowledged = (file_report().case_ref for _ in range(3))
    with app.state.context.sessions() as session, session.begin():
        past = utcnow() - timedelta(hours=1)
        session.execute(
            update(Case).where(Case.case_ref.in_([late, acknowledged])).values(due_at=past)
        )
    answer = client.post(
        f"/api/v1/cases/{acknowledged}/events",
        json={"type": "acknowledged"},
        headers=staff["unicef"],
    )
    assert answer.status_code == 201
    headers = staff["coord-ke"]
    assert refs(client, headers, "?overdue=true") == [late]
    assert refs(client, headers, "?overdue=false") == [acknowledged, fresh]
    assert refs(client, headers, "?status=acknowledged") == [acknowledged]
    assert refs(client, headers, "?status=routed&overdue=false") == [fresh]
    items = client.get("/api/v1/cases", headers=headers).json()["items"]
    assert {item["case_ref"]: item["overdue"] for item in items} == {
        late: True,
        fresh: False,
        acknowledged: False,
    }
    assert client.get("/api/v1/cases?status=lost", headers=headers).status_code == 422


def test_cursor_pages_carry_their_filters_and_end_with_null(
    client: TestClient, staff: Headers, file_report: FileReport
) -> None:
    filed = [file_report().case_ref for _ in range(5)]
    client.post(
        f"/api/v1/cases/{filed[0]}/events",
        json={"type": "closed", "outcome": "other"},
        headers=staff["unicef"],
    )
    routed = list(reversed(filed[1:]))  # newest first
    seen: list[str] = []
    page = client.get("/api/v1/cases?status=routed&limit=3", headers=staff["unicef"]).json()
    seen += [item["case_ref"] for item in page["items"]]
    assert len(page["items"]) == 3
    assert isinstance(page["next"], str)
    # SPEC: the next page is GET /api/v1/cases?cursor=<next>, the filters travel inside.
    page = client.get(f"/api/v1/cases?cursor={page['next']}", headers=staff["unicef"]).json()
    seen += [item["case_ref"] for item in page["items"]]
    assert page["next"] is None
    assert seen == routed


@pytest.mark.parametrize("query", ["?limit=101", "?limit=0", "?cursor=not-a-cursor", "?cursor=e30"])
def test_bad_limits_and_cursors_are_422(client: TestClient, staff: Headers, query: str) -> None:
    response = client.get(f"/api/v1/cases{query}", headers=staff["unicef"])
    assert response.status_code == 422
    assert set(response.json()) >= {"type", "title", "status", "detail"}


def test_default_page_is_50_and_limit_100_is_allowed(
    app: FastAPI, client: TestClient, staff: Headers, file_report: FileReport
) -> None:
    for _ in range(51):
        file_report()
    first = client.get("/api/v1/cases", headers=staff["unicef"]).json()
    assert len(first["items"]) == 50
    assert first["next"]
    everything = client.get("/api/v1/cases?limit=100", headers=staff["unicef"]).json()
    assert len(everything["items"]) == 51
    assert everything["next"] is None


def test_every_list_is_audited_with_the_refs_it_showed(
    app: FastAPI, client: TestClient, staff: Headers, file_report: FileReport
) -> None:
    case_ref = file_report().case_ref
    refs(client, staff["coord-ke"], "?status=routed")
    (entry,) = audit_entries(app, "case.list")
    assert entry.actor == "coord-ke"
    assert json.loads(entry.detail)["case_refs"] == [case_ref]
    assert json.loads(entry.detail)["status"] == "routed"
