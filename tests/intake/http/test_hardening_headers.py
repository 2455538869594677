"""SPEC 15 on every answer: no-store, HSTS over https, docs off by default, the test-KDF flag."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from testkit import staff
from testkit.cases import report
from testkit.sms import PATH, Phone

from channels.registry import installed
from crypto.kdf import KdfCost
from intake.app import create_app
from intake.settings import Settings

ClientWith = Callable[..., TestClient]
PASSWORD = "a long staff passphrase"
ACCOUNTS: dict[str, staff.AccountSpec] = {
    "fp": ("focal_point", "ke-unicef", None),
    "op": ("operator", None, "KE"),
}


@pytest.fixture
def client_with(settings: Settings, loaded_routing: str, kdf_cost: KdfCost) -> Iterator[ClientWith]:
    """A client of an app whose settings differ from the test's by `changes`."""
    opened: list[TestClient] = []

    def make(base_url: str = "https://intake.example.org", **changes: object) -> TestClient:
        changed = settings.model_copy(update=changes)
        client = TestClient(
            create_app(changed, channels=installed(), receipt_cost=kdf_cost), base_url=base_url
        )
        opened.append(client.__enter__())
        return client

    yield make
    for client in opened:
        client.__exit__(None, None, None)


def _csrf(client: TestClient, path: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert found is not None
    return found.group(1)


def _web_form() -> dict[str, str]:
    return {
        "reporter_type": "anonymous",
        "language": "en",
        "country": "KE",
        "category": "sexual_abuse",
        "narrative": "A distribution worker asked for sex in exchange for food.",
    }


def test_every_answer_with_a_receipt_follow_up_or_case_is_no_store(
    client: TestClient, kdf_cost: KdfCost
) -> None:
    staff.create_accounts(client.app, kdf_cost, ACCOUNTS, password=PASSWORD)  # type: ignore[arg-type]
    fp = staff.bearer(client, "fp", PASSWORD)
    op = staff.bearer(client, "op", PASSWORD)
    filed = client.post("/api/v1/reports", json=report())
    assert filed.status_code == 201
    receipt, case_ref = filed.json()["receipt"], filed.json()["case_ref"]
    web = client.post("/report", data={"csrf_token": _csrf(client, "/report"), **_web_form()})
    assert web.status_code == 200
    answers = {
        "POST /api/v1/reports": filed,
        "POST /report": web,
        "POST /followup": client.post(
            "/followup", data={"csrf_token": _csrf(client, "/followup"), "receipt": receipt}
        ),
        "POST /api/v1/followup": client.post("/api/v1/followup", json={"receipt": receipt}),
        "POST /api/v1/hotline/reports": client.post(
            "/api/v1/hotline/reports", json=report(), headers=op
        ),
        "GET /api/v1/cases": client.get("/api/v1/cases", headers=fp),
        "GET /api/v1/cases/{ref}": client.get(f"/api/v1/cases/{case_ref}", headers=fp),
        "POST /api/v1/cases/{ref}/events": client.post(
            f"/api/v1/cases/{case_ref}/events", json={"type": "acknowledged"}, headers=fp
        ),
        "POST /api/v1/cases/{ref}/messages": client.post(
            f"/api/v1/cases/{case_ref}/messages", json={"text": "Thank you."}, headers=fp
        ),
        "GET /api/v1/cases (no token)": client.get("/api/v1/cases"),
        "GET /hotline/login": client.get("/hotline/login"),
        "GET /hotline": client.get("/hotline", follow_redirects=False),
        "POST /hotline": client.post("/hotline", data={}, follow_redirects=False),
    }
    assert answers["POST /api/v1/followup"].status_code == 200
    assert answers["POST /api/v1/hotline/reports"].status_code == 201
    assert answers["GET /api/v1/cases/{ref}"].status_code == 200
    missing = [
        name
        for name, answer in answers.items()
        if answer.headers.get("cache-control") != "no-store"
    ]
    assert missing == []


def test_static_files_may_be_cached(client: TestClient) -> None:
    response = client.get("/static/docs/swagger-ui.css")
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("cache-control", "")


def test_https_public_url_sends_hsts_on_every_answer(client_with: ClientWith) -> None:
    client = client_with(public_url="https://intake.example.org")
    for path in ("/healthz", "/report", "/no-such-page", "/static/docs/swagger-ui.css"):
        assert client.get(path).headers["strict-transport-security"] == "max-age=31536000"


def test_no_hsts_without_an_https_public_url(client_with: ClientWith) -> None:
    client = client_with(base_url="http://intake.local", public_url="http://intake.local")
    assert "strict-transport-security" not in client.get("/healthz").headers


def test_staff_cookie_is_a_secure_host_cookie_over_https(
    client_with: ClientWith, kdf_cost: KdfCost
) -> None:
    client = client_with(public_url="https://intake.example.org")
    staff.create_accounts(client.app, kdf_cost, ACCOUNTS, password=PASSWORD)  # type: ignore[arg-type]
    page_token = _csrf(client, "/staff/login")
    answer = client.post(
        "/staff/login",
        data={"username": "op", "password": PASSWORD, "csrf_token": page_token},
        follow_redirects=False,
    )
    cookie = next(
        v for k, v in answer.headers.multi_items() if k == "set-cookie" and "session" in v
    )
    assert cookie.startswith("__Host-staff_session=")
    assert "Secure" in cookie
    assert "Path=/;" in cookie + ";"


def test_twilio_signed_url_never_comes_from_the_host_header(client_with: ClientWith) -> None:
    client = client_with(base_url="https://attacker.example", public_url=None)
    # Signed over the URL the Host header names: not accepted without INTAKE_PUBLIC_URL.
    response = Phone(client, url="https://attacker.example" + PATH).deliver("Hello")
    assert response.status_code == 403


@pytest.mark.parametrize("path", ["/docs", "/openapi.json"])
def test_docs_answer_404_unless_enabled(
    client: TestClient, client_with: ClientWith, path: str
) -> None:
    assert client.get(path).status_code == 404
    assert client_with(docs=True).get(path).status_code == 200


def test_docs_setting_reads_intake_docs(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings(data_dir=Path("unused")).docs is False
    monkeypatch.setenv("INTAKE_DOCS", "true")
    assert Settings(data_dir=Path("unused")).docs is True


def test_healthz_says_when_the_receipt_kdf_is_insecure(
    client: TestClient, client_with: ClientWith
) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    weak = client_with(insecure_test_kdf=True).get("/healthz")
    assert weak.json() == {"status": "ok", "insecure_test_kdf": True}
