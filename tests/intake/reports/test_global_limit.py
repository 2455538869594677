"""INTAKE_REPORT_GLOBAL_LIMIT: accepted reports of every source together (SPEC 15)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from testkit import staff
from testkit.cases import report

from channels.registry import installed
from crypto.kdf import KdfCost
from intake.app import create_app
from intake.models import Case
from intake.settings import RateLimit, Settings

ClientFrom = Callable[[str], TestClient]
PASSWORD = "a long operator passphrase"


@pytest.fixture
def app(settings: Settings, loaded_routing: str, kdf_cost: KdfCost) -> FastAPI:
    limited = settings.model_copy(update={"report_global_limit": "2/hour", "report_limit": "0"})
    return create_app(limited, channels=installed(), receipt_cost=kdf_cost)


@pytest.fixture
def client_from(app: FastAPI) -> Iterator[ClientFrom]:
    """Clients of one running app, each from its own address."""
    with ExitStack() as stack:
        stack.enter_context(TestClient(app, base_url="https://intake.example.org"))  # lifespan

        def make(address: str) -> TestClient:
            client = TestClient(app, base_url="https://intake.example.org", client=(address, 1))
            stack.callback(client.close)
            return client

        yield make


def _cases(app: FastAPI) -> int:
    with app.state.context.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Case)) or 0)


def _web_report(client: TestClient) -> int:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/report").text)
    assert found is not None
    fields = {
        "csrf_token": found.group(1),
        "reporter_type": "anonymous",
        "country": "KE",
        "category": "sexual_abuse",
        "narrative": "A distribution worker asked for sex in exchange for food.",
    }
    response = client.post("/report", data=fields)
    if response.status_code == 429:
        assert int(response.headers["retry-after"]) >= 1
    return response.status_code


def test_over_the_global_limit_every_channel_gets_429_and_nothing_is_stored(
    app: FastAPI, client_from: ClientFrom, kdf_cost: KdfCost
) -> None:
    accounts = {"op": ("operator", None, "KE")}
    staff.create_accounts(app, kdf_cost, accounts, password=PASSWORD)  # type: ignore[arg-type]
    operator = staff.bearer(client_from("192.0.2.9"), "op", PASSWORD)
    assert client_from("192.0.2.1").post("/api/v1/reports", json=report()).status_code == 201
    assert _web_report(client_from("192.0.2.2")) == 200
    refused = client_from("192.0.2.3").post("/api/v1/reports", json=report())
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert _web_report(client_from("192.0.2.4")) == 429
    hotline = client_from("192.0.2.9").post(
        "/api/v1/hotline/reports", json=report(), headers=operator
    )
    assert hotline.status_code == 429
    assert "retry-after" in hotline.headers
    assert _cases(app) == 2


def test_zero_turns_the_global_limit_off(
    settings: Settings, loaded_routing: str, kdf_cost: KdfCost
) -> None:
    off = settings.model_copy(update={"report_global_limit": "0", "report_limit": "0"})
    with TestClient(create_app(off, channels=installed(), receipt_cost=kdf_cost)) as client:
        assert [client.post("/api/v1/reports", json=report()).status_code for _ in range(3)] == [
            201
        ] * 3


def test_the_default_is_600_a_minute() -> None:
    assert Settings(data_dir=Path("unused")).report_global_rate == RateLimit(600, 60)
