"""SPEC 11 over the JSON API: prepare, seal on the client (PyNaCl here), submit; every refusal.

Each refusal is a 422 problem naming what is wrong (`errors[0].type` and its
`loc`) and leaves the database as it was: no case, no used token, no count.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from testkit.cases import case_by_ref, open_case
from testkit.keys import Keyring
from testkit.sealed import CLEAR, SEALED
from testkit.sealed import body as _body
from testkit.sealed import envelope as _envelope
from testkit.sealed import prepare as _prepare
from testkit.sealed import stored as _stored

from channels.registry import installed
from crypto.envelope import b64d, case_aad, kid_of, seal
from crypto.kdf import KdfCost
from intake import i18n
from intake.app import create_app
from intake.models import UsedPreparedToken, utcnow
from intake.reports import prepared as prepared_tokens
from intake.reports.field_errors import MESSAGES
from intake.settings import Settings


def _refused(app: FastAPI, client: TestClient, body: dict[str, Any], code: str) -> dict[str, Any]:
    before = _stored(app)
    response = client.post("/api/v1/reports", json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert {"type", "title", "status", "detail"} <= set(problem)
    assert problem["errors"][0]["type"] == code
    language = body.get("language") or "en"  # the message speaks the body's language
    assert problem["errors"][0]["msg"] == i18n.translations_for(language).gettext(MESSAGES[code])
    assert "Canary" not in response.text
    assert _stored(app) == before
    return dict(problem["errors"][0])


# --- prepare ------------------------------------------------------------------------------------


def test_prepare_names_the_decisions_keys_and_stores_nothing(
    app: FastAPI, client: TestClient, keyring: Keyring
) -> None:
    before = _stored(app)
    prepared = _prepare(client)
    assert set(prepared) == {"case_ref", "keys", "prepared"}
    expected = [keyring.public_b64(name) for name in ("ke-unicef", "ke-coordinator", "escrow")]
    assert sorted(key["public_key"] for key in prepared["keys"]) == sorted(expected)
    for key in prepared["keys"]:
        assert key["kid"] == kid_of(b64d(key["public_key"], length=32))
    assert _stored(app) == before
    assert _prepare(client)["case_ref"] != prepared["case_ref"]


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("country", "ke", "country_unknown"),
        ("category", "gossip", "literal_error"),
        ("reporter_type", None, "missing"),
        ("narrative", "a sealed field does not belong here", "extra_forbidden"),
    ],
)
def test_prepare_validates_the_clear_fields_as_a_report_does(
    client: TestClient, field: str, value: Any, code: str
) -> None:
    body = {**CLEAR, field: value}
    if value is None:
        del body[field]
    response = client.post("/api/v1/reports/prepare", json=body)
    assert response.status_code == 422
    assert response.json()["errors"][0]["type"] == code
    assert "sealed field does not" not in response.text


def test_prepare_is_refused_over_the_report_limit(
    settings: Settings, loaded_routing: str, kdf_cost: KdfCost
) -> None:
    limited = settings.model_copy(update={"report_limit": "1/hour"})
    app = create_app(limited, channels=installed(), receipt_cost=kdf_cost)
    with TestClient(app, base_url="https://intake.example.org") as client:
        first = _prepare(client)
        assert client.post("/api/v1/reports", json=_body(first)).status_code == 201
        before = _stored(app)
        response = client.post("/api/v1/reports/prepare", json=CLEAR)
        assert response.status_code == 429
        assert int(response.headers["retry-after"]) >= 1
        assert _stored(app) == before


# --- the happy path -----------------------------------------------------------------------------


def test_a_sealed_report_opens_with_the_focal_points_key_to_what_was_sealed(
    app: FastAPI, client: TestClient, keyring: Keyring
) -> None:
    prepared = _prepare(client)
    response = client.post("/api/v1/reports", json=_body(prepared))
    assert response.status_code == 201, response.text
    answer = response.json()
    assert answer["case_ref"] == prepared["case_ref"]
    assert answer["status"] == "routed"
    assert response.headers["cache-control"] == "no-store"
    with app.state.context.sessions() as session:
        case = case_by_ref(session, answer["case_ref"])
        _ = case.recipients
    assert open_case(case, keyring.pairs["ke-unicef"]) == SEALED
    assert open_case(case, keyring.pairs["escrow"]) == SEALED
    assert case.recipient_ids == ["ke-unicef", "ke-coordinator"]
    assert (case.language, case.victim_is_child) == ("fr", True)
    assert (case.consent_contact_me, case.consent_refer_to_services) == (True, True)
    assert _stored(app)["used_prepared_tokens"] == 1
    followup = client.post("/api/v1/followup", json={"receipt": answer["receipt"]})
    assert followup.status_code == 200
    assert followup.json()["case_ref"] == answer["case_ref"]


# --- refusals -----------------------------------------------------------------------------------


def test_a_garbage_token_is_refused(app: FastAPI, client: TestClient) -> None:
    prepared = _prepare(client)
    for token in ("x", "p1.", "p1.abc.def", prepared["prepared"] + "A", "Canary"):
        _refused(app, client, _body(prepared, prepared=token), "prepared_invalid")


def test_a_forged_token_is_refused(app: FastAPI, client: TestClient) -> None:
    prepared = _prepare(client)
    signed, _, mac = prepared["prepared"].rpartition(".")
    payload = json.loads(base64.urlsafe_b64decode(signed[3:] + "=" * (-len(signed[3:]) % 4)))
    payload["clear"]["country"] = "SO"  # routed elsewhere, signature kept
    forged_body = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
    forged = f"p1.{forged_body}.{mac}"
    _refused(app, client, _body(prepared, prepared=forged, country="SO"), "prepared_invalid")


def test_a_token_signed_with_another_secret_is_refused(app: FastAPI, client: TestClient) -> None:
    from crypto.server_secret import ServerSecret

    prepared = _prepare(client)
    token = prepared_tokens.read(
        app.state.context.secret,
        prepared["prepared"],
        now=utcnow(),
        translations=i18n.translations_for("en"),
    )
    other = prepared_tokens.issue(
        ServerSecret(b"\x01" * 32),
        case_ref=token.case_ref,
        decision=_decision(token),
        kids=token.kids,
        clear=token.clear,
        now=utcnow(),
    )
    _refused(app, client, _body(prepared, prepared=other), "prepared_invalid")


def _decision(token: prepared_tokens.Prepared) -> Any:
    from routing.engine import Decision

    return Decision(token.rule_id, (), 24, token.table_version, "")


def test_an_expired_token_is_refused(app: FastAPI, client: TestClient) -> None:
    prepared = _prepare(client)
    token = prepared_tokens.read(
        app.state.context.secret,
        prepared["prepared"],
        now=utcnow(),
        translations=i18n.translations_for("en"),
    )
    stale = prepared_tokens.issue(
        app.state.context.secret,
        case_ref=token.case_ref,
        decision=_decision(token),
        kids=token.kids,
        clear=token.clear,
        now=utcnow() - prepared_tokens.LIFETIME - timedelta(seconds=1),
    )
    _refused(app, client, _body(prepared, prepared=stale), "prepared_expired")


def test_a_used_token_is_refused(app: FastAPI, client: TestClient) -> None:
    prepared = _prepare(client)
    assert client.post("/api/v1/reports", json=_body(prepared)).status_code == 201
    _refused(app, client, _body(prepared), "prepared_used")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("reporter_type", "anonymous"),
        ("language", "en"),
        ("country", "SO"),
        ("category", "fraud_corruption"),
        ("affiliation", "unknown"),
        ("victim_is_child", None),
        ("consent", {"contact_me": False}),
    ],
)
def test_a_changed_clear_field_is_refused_by_name(
    app: FastAPI, client: TestClient, field: str, value: Any
) -> None:
    prepared = _prepare(client)
    error = _refused(app, client, _body(prepared, **{field: value}), "prepared_mismatch")
    assert error["loc"] == [field]


def test_an_omitted_clear_field_with_a_default_is_refused(app: FastAPI, client: TestClient) -> None:
    prepared = _prepare(client)
    body = _body(prepared)
    del body["affiliation"]  # defaults to "unknown": not what was signed
    assert _refused(app, client, body, "prepared_mismatch")["loc"] == ["affiliation"]


def test_wrong_extra_or_missing_kids_are_refused(
    app: FastAPI, client: TestClient, keyring: Keyring
) -> None:
    prepared = _prepare(client)
    keys = [b64d(key["public_key"], length=32) for key in prepared["keys"]]
    aad = case_aad(prepared["case_ref"])
    stranger = keyring.pairs["so-unhcr"].public_key
    cases = {
        "missing": keys[:-1],
        "extra": [*keys, stranger],
        "wrong": [*keys[:-1], stranger],
    }
    for keyset in cases.values():
        envelope = seal(SEALED, public_keys=keyset, aad=aad)
        error = _refused(app, client, _body(prepared, envelope=envelope), "envelope_recipients")
        assert error["loc"] == ["envelope", "recipients"]


def _malformed(prepared: dict[str, Any]) -> list[dict[str, Any]]:
    good = _envelope(prepared)
    entry = good["recipients"][0]
    return [
        {},
        {**good, "v": 2},
        {**good, "aead": "aes"},
        {**good, "nonce": "AAAA"},
        {**good, "ct": "not base64!"},
        {**good, "ct": base64.b64encode(b"short").decode()},
        {**good, "recipients": []},
        {**good, "recipients": [{**entry, "sealed_key": "AAAA"}, *good["recipients"][1:]]},
        {**good, "recipients": [entry, entry, *good["recipients"][2:]]},
        {**good, "extra": 1},
        {key: value for key, value in good.items() if key != "nonce"},
    ]


def test_a_malformed_envelope_is_refused(app: FastAPI, client: TestClient) -> None:
    prepared = _prepare(client)
    for envelope in _malformed(prepared):
        _refused(app, client, _body(prepared, envelope=envelope), "envelope_invalid")


def test_an_envelope_that_is_not_an_object_is_a_422(app: FastAPI, client: TestClient) -> None:
    prepared = _prepare(client)
    for value in ([], "x", None, 3):
        response = client.post("/api/v1/reports", json=_body(prepared, envelope=value))
        assert response.status_code == 422
    assert _stored(app)["cases"] == 0


def test_sealed_and_clear_content_together_is_refused(app: FastAPI, client: TestClient) -> None:
    prepared = _prepare(client)
    body = _body(prepared, narrative=SEALED["narrative"])
    response = client.post("/api/v1/reports", json=body)
    assert response.status_code == 422
    assert response.json()["errors"][0]["type"] == "extra_forbidden"
    assert "Canary" not in response.text
    assert _stored(app)["cases"] == 0


def test_a_changed_routing_table_makes_the_token_stale(
    app: FastAPI, client: TestClient, keyring: Keyring
) -> None:
    from testkit.keys import routing_table_toml

    from intake.db import transaction
    from intake.routing_tables.store import store_table

    prepared = _prepare(client)
    with transaction(app.state.context.sessions) as session:
        store_table(session, routing_table_toml(keyring, version="test-2"), loaded_by="tests")
    _refused(app, client, _body(prepared), "prepared_stale")


def test_concurrent_double_use_gives_exactly_one_201(app: FastAPI, client: TestClient) -> None:
    prepared = _prepare(client)
    body = _body(prepared)
    statuses: list[int] = []
    barrier = threading.Barrier(4)

    def send() -> None:
        barrier.wait()
        statuses.append(client.post("/api/v1/reports", json=body).status_code)

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201, 422, 422, 422]
    counts = _stored(app)
    assert (counts["cases"], counts["used_prepared_tokens"]) == (1, 1)


def test_the_used_row_holds_no_token_and_goes_after_expiry(
    app: FastAPI, client: TestClient
) -> None:
    prepared = _prepare(client)
    assert client.post("/api/v1/reports", json=_body(prepared)).status_code == 201
    with app.state.context.sessions() as session, session.begin():
        row = session.scalars(select(UsedPreparedToken)).one()
        assert row.id_hash not in prepared["prepared"].encode()
        assert prepared_tokens.purge_expired(session, utcnow()) == 0
        later = utcnow() + prepared_tokens.LIFETIME + timedelta(seconds=1)
        assert prepared_tokens.purge_expired(session, later) == 1


def test_another_process_refuses_a_token_used_here_even_past_the_early_look(
    app: FastAPI,
    client: TestClient,
    settings: Settings,
    kdf_cost: KdfCost,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two apps on one database; the unique key decides, not the early look."""
    prepared = _prepare(client)
    body = _body(prepared)
    other = create_app(settings, channels=installed(), receipt_cost=kdf_cost)
    with TestClient(other, base_url="https://intake.example.org") as second:
        assert second.post("/api/v1/reports", json=body).status_code == 201
        monkeypatch.setattr(prepared_tokens, "was_used", lambda *_args: False)
        _refused(app, client, body, "prepared_used")


def test_no_token_or_sealed_value_reaches_a_log(
    app: FastAPI, client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    prepared = _prepare(client)
    body = _body(prepared)
    assert client.post("/api/v1/reports", json=body).status_code == 201
    assert client.post("/api/v1/reports", json=body).status_code == 422
    logged = caplog.text + "".join(repr(record.__dict__) for record in caplog.records)
    assert prepared["prepared"] not in logged
    assert prepared["prepared"].split(".")[-1] not in logged  # nor its signature
    assert body["envelope"]["ct"] not in logged
