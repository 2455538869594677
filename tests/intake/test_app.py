"""The app skeleton: health, problem+json errors, body limit, security headers."""

from __future__ import annotations

from fastapi.testclient import TestClient

from channels.registry import installed
from crypto.kdf import KdfCost
from intake.app import create_app
from intake.settings import Settings


def test_healthz_answers_ok(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_unknown_api_path_is_problem_json(client: TestClient) -> None:
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert set(response.json()) >= {"type", "title", "status", "detail"}


def test_multi_megabyte_body_gets_413_not_a_crash(client: TestClient) -> None:
    response = client.post(
        "/api/v1/reports",
        content=b"{" + b" " * (3 * 1024 * 1024) + b"}",
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["status"] == 413
    assert client.get("/healthz").status_code == 200


def test_streamed_body_without_length_is_cut_at_the_limit(client: TestClient) -> None:
    def chunks() -> object:
        for _ in range(64):
            yield b"x" * 65536

    response = client.post("/api/v1/reports", content=chunks())  # type: ignore[arg-type]
    assert response.status_code == 413


def test_security_headers_on_every_response(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


def test_docs_are_served_without_another_origin(
    settings: Settings, loaded_routing: str, kdf_cost: KdfCost
) -> None:
    app = create_app(
        settings.model_copy(update={"docs": True}), channels=installed(), receipt_cost=kdf_cost
    )
    with TestClient(app, base_url="https://intake.example.org") as client:
        _assert_docs_served(client)


def _assert_docs_served(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert "http" not in page.text.replace("https://intake.example.org", "")
    assert client.get("/static/docs/swagger-ui-bundle.js").status_code == 200
    assert client.get("/openapi.json").json()["info"]["title"] == "psea-intake"
