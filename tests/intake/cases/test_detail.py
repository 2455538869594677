"""The case detail's SPEC 10 additions, page-sealed messages, /api/v1/focal-points,
and the staff session cookie on the API (with its CSRF header)."""

from __future__ import annotations

import base64
import json

from fastapi import FastAPI
from fastapi.testclient import TestClient
from testkit.keys import Keyring
from testkit.staff import csrf_of, page_sign_in

from crypto.envelope import case_aad, kid_of, open_envelope, seal
from crypto.receipt import open_with_keypair, seal_to_public_key
from intake.reports.receipts import derive_for

from .conftest import PASSWORD, FileReport, Headers
from .test_messages import messages_of

CANARY = "Canary-9Z: sealed in the page"


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _sealed_body(detail: dict[str, object], text: str, keys: list[str]) -> dict[str, object]:
    case_ref = str(detail["case_ref"])
    receipt_key = base64.b64decode(str(detail["receipt_public_key"]))
    envelope = seal(
        {"text": text}, public_keys=[base64.b64decode(k) for k in keys], aad=case_aad(case_ref)
    )
    return {"sealed": {"to_reporter": seal_to_public_key(text, receipt_key), "envelope": envelope}}


def test_detail_gives_keys_consent_events_and_messages(
    client: TestClient, staff: Headers, file_report: FileReport, keyring: Keyring
) -> None:
    filed = file_report(consent={"refer_to_services": True})
    url = f"/api/v1/cases/{filed.case_ref}"
    client.post(f"{url}/events", json={"type": "acknowledged"}, headers=staff["unicef"])
    client.post(f"{url}/messages", json={"text": "hello"}, headers=staff["unicef"])
    detail = client.get(url, headers=staff["unicef"]).json()
    owners = {(key["focal_point"], key["public_key"]) for key in detail["recipient_keys"]}
    assert owners == {
        ("ke-unicef", keyring.public_b64("ke-unicef")),
        ("ke-coordinator", keyring.public_b64("ke-coordinator")),
        ("escrow", keyring.public_b64("escrow")),
    }
    for key in detail["recipient_keys"]:
        assert key["kid"] == kid_of(base64.b64decode(key["public_key"]))
    assert len(base64.b64decode(detail["receipt_public_key"])) == 32
    assert detail["consent"] == {
        "contact_me": False,
        "share_with_investigators": False,
        "refer_to_services": True,
    }
    assert [(e["type"], e["by"]) for e in detail["events"]] == [
        ("routed", "public"),
        ("acknowledged", "unicef"),
    ]
    assert all(e["at"].endswith("Z") for e in detail["events"])
    (message,) = detail["messages"]
    assert set(message) == {"id", "at", "from", "envelope"}
    assert message["from"] == "focal_point"
    opened = open_envelope(
        message["envelope"],
        private_key=keyring.pairs["ke-unicef"].private_key,
        aad=case_aad(filed.case_ref),
    )
    assert opened == {"text": "hello"}


def test_a_message_sealed_in_the_page_is_stored_as_sent(
    app: FastAPI, client: TestClient, staff: Headers, file_report: FileReport, keyring: Keyring
) -> None:
    filed = file_report()
    url = f"/api/v1/cases/{filed.case_ref}"
    detail = client.get(url, headers=staff["unicef"]).json()
    body = _sealed_body(detail, CANARY, [k["public_key"] for k in detail["recipient_keys"]])
    response = client.post(f"{url}/messages", json=body, headers=staff["unicef"])
    assert response.status_code == 201, response.text
    assert response.json()["sms_queued"] is False
    (stored,) = messages_of(app, filed.case_ref)
    assert json.loads(stored.envelope) == body["sealed"]["envelope"]  # type: ignore[index]
    reporter = derive_for(app.state.context, filed.receipt).keypair
    assert open_with_keypair(stored.sealed_for_reporter, reporter) == CANARY
    followup = client.post("/api/v1/followup", json={"receipt": filed.receipt}).json()
    assert [m["text"] for m in followup["messages"]] == [CANARY]


def test_a_page_sealed_message_must_reach_every_recipient_key_and_be_well_formed(
    client: TestClient, staff: Headers, file_report: FileReport, keyring: Keyring
) -> None:
    filed = file_report()
    url = f"/api/v1/cases/{filed.case_ref}"
    detail = client.get(url, headers=staff["unicef"]).json()
    only_mine = _sealed_body(detail, CANARY, [keyring.public_b64("ke-unicef")])
    assert (
        client.post(f"{url}/messages", json=only_mine, headers=staff["unicef"]).status_code == 422
    )
    full = _sealed_body(detail, CANARY, [k["public_key"] for k in detail["recipient_keys"]])
    for broken in (
        {"sealed": {**full["sealed"], "to_reporter": "not base64!"}},  # type: ignore[dict-item]
        {"sealed": {**full["sealed"], "to_reporter": _b64(b"x" * 10)}},  # type: ignore[dict-item]
        {"sealed": {**full["sealed"], "envelope": {"v": 2}}},  # type: ignore[dict-item]
        {"sealed": {"envelope": full["sealed"]["envelope"]}},  # type: ignore[index]
    ):
        response = client.post(f"{url}/messages", json=broken, headers=staff["unicef"])
        assert response.status_code == 422, broken
        assert CANARY not in response.text


def test_focal_points_lists_the_active_tables_public_keys(
    client: TestClient, staff: Headers, keyring: Keyring
) -> None:
    for account in ("unicef", "coord-ke", "admin"):
        response = client.get("/api/v1/focal-points", headers=staff[account])
        assert response.status_code == 200
        assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["escrow"] == [keyring.public_b64("escrow")]
    wfp = next(fp for fp in body["focal_points"] if fp["id"] == "ke-wfp")
    assert wfp == {
        "id": "ke-wfp",
        "name": "WFP Kenya PSEA focal point",
        "agency": "WFP",
        "country": "KE",
        "public_keys": [keyring.public_b64("ke-wfp")],
    }
    assert client.get("/api/v1/focal-points", headers=staff["operator"]).status_code == 403


def test_the_page_session_reaches_the_api_and_changes_need_the_csrf_header(
    client: TestClient, staff: Headers, file_report: FileReport
) -> None:
    case_ref = file_report().case_ref
    page_sign_in(client, "unicef", PASSWORD)
    token = csrf_of(client.get("/inbox").text)
    url = f"/api/v1/cases/{case_ref}"
    assert client.get(url).status_code == 200
    event = {"type": "acknowledged"}
    assert client.post(f"{url}/events", json=event).status_code == 403
    bad = client.post(f"{url}/events", json=event, headers={"X-CSRF-Token": "0" * 64})
    assert bad.status_code == 403
    good = client.post(f"{url}/events", json=event, headers={"X-CSRF-Token": token})
    assert good.status_code == 201, good.text
    client.cookies.clear()
    assert client.get(url).status_code == 401


def test_a_page_sealed_sms_answer_with_its_text_goes_out_by_sms(
    app: FastAPI, client: TestClient, staff: Headers
) -> None:
    from .test_messages import _sms_case

    case_ref = _sms_case(app, contact_me=True)
    url = f"/api/v1/cases/{case_ref}"
    detail = client.get(url, headers=staff["unicef"]).json()
    assert (detail["channel"], detail["consent"]["contact_me"]) == ("sms", True)
    body = _sealed_body(detail, CANARY, [k["public_key"] for k in detail["recipient_keys"]])
    sealed_only = client.post(f"{url}/messages", json=body, headers=staff["unicef"])
    assert sealed_only.json()["sms_queued"] is False  # without the text nothing can go by SMS
    with_text = client.post(
        f"{url}/messages", json={**body, "text": CANARY}, headers=staff["unicef"]
    )
    assert with_text.status_code == 201
    assert with_text.json()["sms_queued"] is True
