"""Builders for reports sealed as a browser seals them (SPEC 11): prepare, seal, post."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from crypto.envelope import b64d, case_aad, seal
from intake.models import AuditEvent, Case, OutboxEntry, RateCounter, UsedPreparedToken

CLEAR: dict[str, Any] = {
    "reporter_type": "named",
    "language": "fr",
    "country": "KE",
    "category": "sexual_abuse",
    "affiliation": "UNICEF",
    "victim_is_child": True,
    "consent": {"contact_me": True, "share_with_investigators": False, "refer_to_services": True},
}
SEALED: dict[str, Any] = {
    "narrative": "Canary-sealed-narrative 5521: le chef du camp a demandé du sexe.",
    "incident_date": "2026-10-02",
    "location": "Canary-location 7730",
    "reporter": {"name": "Canary-name 1188", "contact": "+254700998877"},
    "victim": {"name": "Canary-victim 4410", "age": 15, "sex": "female"},
}


def prepare(client: TestClient, **overrides: Any) -> dict[str, Any]:
    response = client.post("/api/v1/reports/prepare", json={**CLEAR, **overrides})
    assert response.status_code == 200, response.text
    return dict(response.json())


def envelope(prepared: dict[str, Any], content: dict[str, Any] | None = None) -> dict[str, Any]:
    keys = [b64d(key["public_key"], length=32) for key in prepared["keys"]]
    return seal(
        SEALED if content is None else content,
        public_keys=keys,
        aad=case_aad(prepared["case_ref"]),
    )


def body(answer: dict[str, Any], /, **overrides: Any) -> dict[str, Any]:
    body = {**CLEAR, "prepared": answer["prepared"], "envelope": envelope(answer)}
    body.update(overrides)
    return body


def stored(app: FastAPI) -> dict[str, int]:
    with app.state.context.sessions() as session:
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Case, AuditEvent, OutboxEntry, UsedPreparedToken, RateCounter)
        }
