"""POST /api/v1/followup: shape, problems, 429 + Retry-After, nothing kept on the reporter."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from testkit.cases import report

from channels.registry import installed
from crypto.kdf import KdfCost
from intake.app import create_app
from intake.context import AppContext
from intake.models import AuditEvent, RateCounter, utcnow
from intake.settings import Settings

AddMessage = Callable[[AppContext, str, str, datetime], None]
ClientFor = Callable[..., TestClient]
BASE_URL = "https://intake.example.org"
RFC3339_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")


@pytest.fixture
def client_for(
    settings: Settings, loaded_routing: str, kdf_cost: KdfCost
) -> Iterator[Callable[..., TestClient]]:
    """TestClients from chosen peer addresses; apps share one database (and limits)."""
    apps: dict[tuple[tuple[str, str], ...], FastAPI] = {}
    with ExitStack() as stack:

        def make(address: str = "198.51.100.1", **overrides: str) -> TestClient:
            key = tuple(sorted(overrides.items()))
            if key not in apps:
                apps[key] = create_app(
                    settings.model_copy(update=overrides),
                    channels=installed(),
                    receipt_cost=kdf_cost,
                )
            client = TestClient(apps[key], base_url=BASE_URL, client=(address, 40000))
            return stack.enter_context(client)

        yield make


def _file(client: TestClient) -> tuple[str, str]:
    answer = client.post("/api/v1/reports", json=report()).json()
    return answer["case_ref"], answer["receipt"]


def _guess() -> str:
    return f"{secrets.randbelow(10**16):016d}"


def _context(client: TestClient) -> AppContext:
    context: AppContext = client.app.state.context  # type: ignore[attr-defined]
    return context


def _assert_problem(response: Any, status: int) -> None:
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/problem+json")
    assert {"type", "title", "status", "detail"} <= set(response.json())


def test_the_answer_has_status_messages_and_z_timestamps(
    client: TestClient, add_message: AddMessage
) -> None:
    case_ref, receipt = _file(client)
    add_message(_context(client), case_ref, "We have received your report.", utcnow())
    response = client.post("/api/v1/followup", json={"receipt": receipt.replace(" ", "-")})
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"case_ref", "status", "updated_at", "messages"}
    assert (body["case_ref"], body["status"]) == (case_ref, "routed")
    assert RFC3339_Z.match(body["updated_at"])
    [message] = body["messages"]
    assert message["text"] == "We have received your report."
    assert RFC3339_Z.match(message["at"])
    assert response.headers["cache-control"] == "no-store"
    assert "set-cookie" not in response.headers


def test_messages_come_oldest_first(client: TestClient, add_message: AddMessage) -> None:
    case_ref, receipt = _file(client)
    now = utcnow()
    add_message(_context(client), case_ref, "later", now)
    add_message(_context(client), case_ref, "earlier", now - timedelta(days=1))
    body = client.post("/api/v1/followup", json={"receipt": receipt}).json()
    assert [message["text"] for message in body["messages"]] == ["earlier", "later"]


def test_an_unknown_receipt_is_a_404_problem_that_never_echoes(client: TestClient) -> None:
    guess = _guess()
    response = client.post("/api/v1/followup", json={"receipt": guess})
    _assert_problem(response, 404)
    assert guess not in response.text


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"receipt": "1234 5678 9012"}, "receipt_invalid"),
        ({"receipt": "1234 5678 9012 345X"}, "receipt_invalid"),
        ({"receipt": "9" * 201}, "string_too_long"),
        ({"receipt": 1234567890123456}, "string_type"),
        ({}, "missing"),
        ({"receipt": "1234 5678 9012 3456", "name": "x"}, "extra_forbidden"),
        ({"receipt": "1234\x005678"}, "nul_character"),
    ],
)
def test_what_is_not_a_receipt_is_a_422_problem(
    client: TestClient, body: dict[str, Any], code: str
) -> None:
    response = client.post("/api/v1/followup", json=body)
    _assert_problem(response, 422)
    assert code in [error["type"] for error in response.json()["errors"]]
    assert "1234" not in response.text


def test_a_guessing_source_gets_429_with_retry_after_and_others_are_served(
    client_for: ClientFor,
) -> None:
    guesser = client_for("198.51.100.7", followup_limit="2/hour")
    reporter = client_for("198.51.100.8", followup_limit="2/hour")
    _case_ref, receipt = _file(reporter)
    for _ in range(2):
        assert guesser.post("/api/v1/followup", json={"receipt": _guess()}).status_code == 404
    refused = guesser.post("/api/v1/followup", json={"receipt": receipt})
    _assert_problem(refused, 429)
    assert 1 <= int(refused.headers["retry-after"]) <= 3601
    assert reporter.post("/api/v1/followup", json={"receipt": receipt}).status_code == 200


def test_the_global_cap_holds_across_many_addresses(client_for: ClientFor) -> None:
    limits = {"followup_limit": "2/hour", "followup_global_limit": "6/hour"}
    reporter = client_for("203.0.113.250", **limits)
    _case_ref, receipt = _file(reporter)
    statuses = [
        client_for(f"203.0.113.{index}", **limits)
        .post("/api/v1/followup", json={"receipt": _guess()})
        .status_code
        for index in range(1, 21)
    ]
    assert statuses == [404] * 6 + [429] * 14
    refused = reporter.post("/api/v1/followup", json={"receipt": receipt})
    _assert_problem(refused, 429)
    assert "retry-after" in refused.headers


def test_nothing_about_the_reporter_is_stored(client_for: ClientFor) -> None:
    client = client_for("192.0.2.55")
    _case_ref, receipt = _file(client)
    context = _context(client)
    with context.sessions() as session:
        audited = session.scalar(select(func.count()).select_from(AuditEvent))
    client.post("/api/v1/followup", json={"receipt": receipt})
    client.post("/api/v1/followup", json={"receipt": _guess()})
    with context.sessions() as session:
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == audited
        sources = session.scalars(select(RateCounter.source)).all()
    assert sources
    for source in sources:
        assert b"192.0.2.55" not in source
        assert len(source) == 32
