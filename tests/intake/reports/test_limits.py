"""INTAKE_REPORT_LIMIT: accepted reports per source, counted in the shared database."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from testkit.cases import report

from channels.registry import installed
from crypto.kdf import KdfCost
from intake.app import create_app
from intake.context import AppContext
from intake.models import AuditEvent, Case, OutboxEntry, RateCounter
from intake.reports import service as pipeline
from intake.reports.schemas import ReportIn
from intake.settings import Settings

ClientFor = Callable[..., TestClient]
LIMIT = {"report_limit": "3/hour"}


@pytest.fixture
def client_for(settings: Settings, loaded_routing: str, kdf_cost: KdfCost) -> Iterator[ClientFor]:
    """A TestClient from a chosen peer address, on its own app ("process") when asked."""
    with ExitStack() as stack:

        def make(address: str, *, app: FastAPI | None = None) -> TestClient:
            """`app`: another address on an app already running (its lifespan started)."""
            target = app or create_app(
                settings.model_copy(update=LIMIT), channels=installed(), receipt_cost=kdf_cost
            )
            client = TestClient(target, base_url="https://intake.example.org", client=(address, 1))
            if app is not None:
                stack.callback(client.close)
                return client
            return stack.enter_context(client)

        yield make


def _post(client: TestClient) -> int:
    return client.post("/api/v1/reports", json=report()).status_code


def _context(client: TestClient) -> AppContext:
    context: AppContext = client.app.state.context  # type: ignore[attr-defined]
    return context


def _rows(client: TestClient, model: type) -> int:
    with _context(client).sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_the_fourth_report_from_one_source_is_refused_and_not_stored(
    client_for: ClientFor,
) -> None:
    client = client_for("198.51.100.20")
    assert [_post(client) for _ in range(3)] == [201, 201, 201]
    refused = client.post("/api/v1/reports", json=report())
    assert refused.status_code == 429
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert 1 <= int(refused.headers["retry-after"]) <= 3601
    assert "receipt" not in refused.json()
    assert _rows(client, Case) == 3
    assert _post(client) == 429
    with _context(client).sessions() as session:
        counted = select(RateCounter.count).where(RateCounter.scope == pipeline.REPORT_SCOPE)
        assert session.scalars(counted).all() == [3]


def test_another_source_is_still_served(client_for: ClientFor) -> None:
    first = client_for("198.51.100.21")
    second = client_for("198.51.100.22", app=first.app)  # type: ignore[arg-type]
    for _ in range(3):
        _post(first)
    assert _post(first) == 429
    assert _post(second) == 201


def test_two_processes_share_the_count(client_for: ClientFor) -> None:
    one, other = client_for("198.51.100.23"), client_for("198.51.100.23")
    assert one.app is not other.app
    assert [_post(one), _post(other), _post(one)] == [201, 201, 201]
    assert _post(other) == 429


def test_the_count_at_commit_refuses_a_report_that_raced_past_the_early_check(
    client_for: ClientFor, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = client_for("198.51.100.24")
    for _ in range(3):
        _post(client)
    before = {model: _rows(client, model) for model in (Case, AuditEvent, OutboxEntry)}
    # As if a concurrent request had read the counter before the others committed.
    monkeypatch.setattr(pipeline, "_refuse_when_over_limit", lambda *_args: None)
    refused = client.post("/api/v1/reports", json=report())
    assert refused.status_code == 429
    assert "retry-after" in refused.headers
    assert {model: _rows(client, model) for model in before} == before


def test_reports_without_a_source_are_not_limited(client_for: ClientFor) -> None:
    context = _context(client_for("198.51.100.25"))
    body = ReportIn.model_validate(report())
    for _ in range(5):
        pipeline.submit(context, pipeline.Submission(report=body, channel="hotline", language="en"))
    with context.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 5


def test_zero_turns_the_limit_off(client: TestClient) -> None:
    assert [_post(client) for _ in range(5)] == [201] * 5
    with _context(client).sessions() as session:
        scopes = session.scalars(select(RateCounter.scope)).all()
    assert pipeline.REPORT_SCOPE not in scopes
