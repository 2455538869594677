"""Granting access by a re-seal made on the recipient's own device, and handing over."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from testkit.cases import case_by_ref, open_case
from testkit.keys import Keyring

from crypto.envelope import add_recipient, case_aad, kid_of
from intake.models import AuditEvent, OutboxEntry

Headers = dict[str, dict[str, str]]
FileReport = Callable[..., Any]


def reseal_for(
    client: TestClient, headers: dict[str, str], keyring: Keyring, case_ref: str, to: str
) -> dict[str, str]:
    """What a recipient does on their own device: open the data key, seal it to `to`."""
    envelope = client.get(f"/api/v1/cases/{case_ref}", headers=headers).json()["envelope"]
    grown = add_recipient(
        envelope,
        private_key=keyring.pairs["ke-unicef"].private_key,
        new_public_key=keyring.pairs[to].public_key,
        aad=case_aad(case_ref),
    )
    new_entry: dict[str, str] = grown["recipients"][-1]  # type: ignore[index]
    return new_entry


def grant(
    client: TestClient,
    headers: dict[str, str],
    case_ref: str,
    focal_point: str,
    entry: Any,
    **extra: Any,
) -> Any:
    body = {"focal_point": focal_point, "sealed_key": entry, **extra}
    return client.post(f"/api/v1/cases/{case_ref}/recipients", json=body, headers=headers)


def test_a_recipient_grants_access_and_the_new_one_can_open_the_case(
    app: FastAPI, client: TestClient, staff: Headers, file_report: FileReport, keyring: Keyring
) -> None:
    case_ref = file_report(narrative="Shared account.").case_ref
    assert client.get(f"/api/v1/cases/{case_ref}", headers=staff["wfp"]).status_code == 404
    entry = reseal_for(client, staff["unicef"], keyring, case_ref, "ke-wfp")
    response = grant(client, staff["unicef"], case_ref, "ke-wfp", entry)
    assert response.status_code == 201, response.text
    assert response.json()["recipients"] == ["ke-unicef", "ke-coordinator", "ke-wfp"]
    detail = client.get(f"/api/v1/cases/{case_ref}", headers=staff["wfp"])
    assert detail.status_code == 200
    with app.state.context.sessions() as session:
        case = case_by_ref(session, case_ref)
        assert open_case(case, keyring.pairs["ke-wfp"])["narrative"] == "Shared account."
        assert case.envelope_sha256 == hashlib.sha256(case.envelope.encode()).hexdigest()
        added = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "case.recipient_added")
        ).one()
        notices = session.scalars(select(OutboxEntry).where(OutboxEntry.kind == "notify")).all()
    assert added.actor == "unicef"
    assert json.loads(added.detail) == {
        "focal_point": "ke-wfp",
        "kids": [kid_of(keyring.pairs["ke-wfp"].public_key)],
        "envelope_sha256": case.envelope_sha256,
    }
    assert any(json.loads(n.payload)["focal_point"] == "ke-wfp" for n in notices)


def test_handover_ends_the_callers_access(
    app: FastAPI, client: TestClient, staff: Headers, file_report: FileReport, keyring: Keyring
) -> None:
    case_ref = file_report().case_ref
    entry = reseal_for(client, staff["unicef"], keyring, case_ref, "so-unhcr")
    response = grant(client, staff["unicef"], case_ref, "so-unhcr", entry, handover=True)
    assert response.status_code == 201
    assert response.json()["recipients"] == ["ke-coordinator", "so-unhcr"]
    assert client.get(f"/api/v1/cases/{case_ref}", headers=staff["unicef"]).status_code == 404
    assert client.get(f"/api/v1/cases/{case_ref}", headers=staff["unhcr"]).status_code == 200
    listed = client.get("/api/v1/cases", headers=staff["unicef"]).json()["items"]
    assert listed == []
    with app.state.context.sessions() as session:
        handover = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "case.handover")
        ).one()
    assert json.loads(handover.detail) == {"from": "ke-unicef", "to": "so-unhcr"}


def test_the_kid_must_belong_to_the_named_focal_point(
    client: TestClient, staff: Headers, file_report: FileReport, keyring: Keyring
) -> None:
    case_ref = file_report().case_ref
    entry = reseal_for(client, staff["unicef"], keyring, case_ref, "so-unhcr")
    response = grant(client, staff["unicef"], case_ref, "ke-wfp", entry)
    assert response.status_code == 422
    unknown = grant(client, staff["unicef"], case_ref, "nobody", entry)
    assert unknown.status_code == 422


@pytest.mark.parametrize("sealed_key", ["not base64", "AAAA", ""])
def test_a_malformed_entry_is_422_and_changes_nothing(
    app: FastAPI,
    client: TestClient,
    staff: Headers,
    file_report: FileReport,
    keyring: Keyring,
    sealed_key: str,
) -> None:
    case_ref = file_report().case_ref
    with app.state.context.sessions() as session:
        before = case_by_ref(session, case_ref).envelope
    entry = {"kid": kid_of(keyring.pairs["ke-wfp"].public_key), "sealed_key": sealed_key}
    assert grant(client, staff["unicef"], case_ref, "ke-wfp", entry).status_code == 422
    with app.state.context.sessions() as session:
        assert case_by_ref(session, case_ref).envelope == before


def test_an_existing_recipient_cannot_be_added_again(
    client: TestClient, staff: Headers, file_report: FileReport, keyring: Keyring
) -> None:
    case_ref = file_report().case_ref
    entry = reseal_for(client, staff["unicef"], keyring, case_ref, "ke-wfp")
    assert grant(client, staff["unicef"], case_ref, "ke-wfp", entry).status_code == 201
    assert grant(client, staff["unicef"], case_ref, "ke-wfp", entry).status_code == 409


def test_a_non_recipient_cannot_grant(
    client: TestClient, staff: Headers, file_report: FileReport, keyring: Keyring
) -> None:
    case_ref = file_report().case_ref
    entry = reseal_for(client, staff["unicef"], keyring, case_ref, "ke-wfp")
    assert grant(client, staff["wfp"], case_ref, "ke-wfp", entry).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"focal_point": "ke-wfp"},
        {"focal_point": "ke-wfp", "sealed_keys": []},
        {"focal_point": "ke-wfp", "sealed_key": "ENTRY", "sealed_keys": ["ENTRY"]},
        {"focal_point": "ke-wfp", "sealed_keys": ["ENTRY", "ENTRY"]},
    ],
)
def test_a_grant_has_its_entries_in_one_form_each_kid_once(
    client: TestClient, staff: Headers, file_report: FileReport, keyring: Keyring, body: Any
) -> None:
    case_ref = file_report().case_ref
    entry = reseal_for(client, staff["unicef"], keyring, case_ref, "ke-wfp")
    filled = {
        name: [entry] * len(value)
        if isinstance(value, list)
        else entry
        if value == "ENTRY"
        else value
        for name, value in body.items()
    }
    response = client.post(
        f"/api/v1/cases/{case_ref}/recipients", json=filled, headers=staff["unicef"]
    )
    assert response.status_code == 422, response.text


def test_sealed_keys_is_the_list_form_of_the_same_grant(
    app: FastAPI, client: TestClient, staff: Headers, file_report: FileReport, keyring: Keyring
) -> None:
    case_ref = file_report(narrative="Listed grant.").case_ref
    entry = reseal_for(client, staff["unicef"], keyring, case_ref, "ke-wfp")
    body = {"focal_point": "ke-wfp", "sealed_keys": [entry]}
    response = client.post(
        f"/api/v1/cases/{case_ref}/recipients", json=body, headers=staff["unicef"]
    )
    assert response.status_code == 201, response.text
    with app.state.context.sessions() as session:
        opened = open_case(case_by_ref(session, case_ref), keyring.pairs["ke-wfp"])
    assert opened["narrative"] == "Listed grant."
