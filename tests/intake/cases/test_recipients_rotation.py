"""A grant to a focal point in the middle of a key rotation seals to every one of its keys.

The routing table lists the old and the new key of `ke-wfp`; a grant sealed to
one of them only is refused, since the focal point could not open the case once
it holds the other key alone.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from testkit.cases import case_by_ref, open_case
from testkit.keys import Keyring, routing_table_toml

from crypto.envelope import add_recipient, case_aad, kid_of
from crypto.keys import KeyPair, generate_keypair, public_key_b64
from intake.models import AuditEvent

Headers = dict[str, dict[str, str]]
FileReport = Callable[..., Any]


@pytest.fixture(scope="module")
def new_wfp_key() -> KeyPair:
    return generate_keypair()


@pytest.fixture
def routing_toml(keyring: Keyring, new_wfp_key: KeyPair) -> str:
    return routing_table_toml(
        keyring, more_keys={"ke-wfp": [public_key_b64(new_wfp_key.public_key)]}
    )


def _entry(
    client: TestClient, headers: dict[str, str], keyring: Keyring, case_ref: str, key: bytes
) -> dict[str, str]:
    envelope = client.get(f"/api/v1/cases/{case_ref}", headers=headers).json()["envelope"]
    grown = add_recipient(
        envelope,
        private_key=keyring.pairs["ke-unicef"].private_key,
        new_public_key=key,
        aad=case_aad(case_ref),
    )
    entry: dict[str, str] = grown["recipients"][-1]  # type: ignore[index]
    return entry


def _grant(client: TestClient, headers: dict[str, str], case_ref: str, body: Any) -> Any:
    return client.post(f"/api/v1/cases/{case_ref}/recipients", json=body, headers=headers)


def test_a_grant_to_one_of_two_keys_is_refused_and_changes_nothing(
    app: FastAPI,
    client: TestClient,
    staff: Headers,
    file_report: FileReport,
    keyring: Keyring,
    new_wfp_key: KeyPair,
) -> None:
    case_ref = file_report().case_ref
    with app.state.context.sessions() as session:
        before = case_by_ref(session, case_ref).envelope
    for key in (keyring.pairs["ke-wfp"].public_key, new_wfp_key.public_key):
        entry = _entry(client, staff["unicef"], keyring, case_ref, key)
        for body in ({"sealed_key": entry}, {"sealed_keys": [entry]}):
            response = _grant(client, staff["unicef"], case_ref, {"focal_point": "ke-wfp", **body})
            assert response.status_code == 422, response.text
            assert "every one of that focal point's keys" in response.json()["detail"]
    with app.state.context.sessions() as session:
        assert case_by_ref(session, case_ref).envelope == before
    assert client.get(f"/api/v1/cases/{case_ref}", headers=staff["wfp"]).status_code == 404


def test_a_grant_to_every_key_opens_with_the_old_and_the_new_key(
    app: FastAPI,
    client: TestClient,
    staff: Headers,
    file_report: FileReport,
    keyring: Keyring,
    new_wfp_key: KeyPair,
) -> None:
    case_ref = file_report(narrative="Rotated grant.").case_ref
    keys = (keyring.pairs["ke-wfp"].public_key, new_wfp_key.public_key)
    entries = [_entry(client, staff["unicef"], keyring, case_ref, key) for key in keys]
    body = {"focal_point": "ke-wfp", "sealed_keys": entries}
    response = _grant(client, staff["unicef"], case_ref, body)
    assert response.status_code == 201, response.text
    with app.state.context.sessions() as session:
        case = case_by_ref(session, case_ref)
        for pair in (keyring.pairs["ke-wfp"], new_wfp_key):
            assert open_case(case, pair)["narrative"] == "Rotated grant."
        added = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "case.recipient_added")
        ).one()
    assert json.loads(added.detail)["kids"] == [kid_of(key) for key in keys]
    assert _grant(client, staff["unicef"], case_ref, body).status_code == 409


def test_a_key_of_another_focal_point_among_the_entries_is_refused(
    client: TestClient,
    staff: Headers,
    file_report: FileReport,
    keyring: Keyring,
    new_wfp_key: KeyPair,
) -> None:
    case_ref = file_report().case_ref
    keys = (
        keyring.pairs["ke-wfp"].public_key,
        new_wfp_key.public_key,
        keyring.pairs["so-unhcr"].public_key,
    )
    entries = [_entry(client, staff["unicef"], keyring, case_ref, key) for key in keys]
    response = _grant(
        client, staff["unicef"], case_ref, {"focal_point": "ke-wfp", "sealed_keys": entries}
    )
    assert response.status_code == 422
    assert "not one of that focal point's keys" in response.json()["detail"]
