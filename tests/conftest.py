"""Fixtures every test may use: a real, isolated database per test on each backend."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from testkit.databases import PostgresTemplates, SqliteTemplates, selected_backends
from testkit.keys import Keyring, routing_table_toml

from channels.registry import installed
from crypto.kdf import TEST_COST, KdfCost
from intake.app import create_app
from intake.db import make_engine, make_sessionmaker, transaction
from intake.routing_tables.store import store_table
from intake.settings import Settings


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No INTAKE_* variable of the developer's shell leaks into a test."""
    for name in list(os.environ):
        if name.startswith("INTAKE_") and not name.startswith("INTAKE_TEST_"):
            monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def _sqlite_templates(tmp_path_factory: pytest.TempPathFactory) -> SqliteTemplates:
    return SqliteTemplates(tmp_path_factory.mktemp("sqlite-template"))


@pytest.fixture(scope="session")
def _postgresql_templates() -> Iterator[PostgresTemplates]:
    templates = PostgresTemplates()
    yield templates
    templates.close()


@pytest.fixture(params=selected_backends())
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database for this test: SQLite, then PostgreSQL."""
    templates = request.getfixturevalue(f"_{request.param}_templates")
    with templates.fresh(tmp_path / "db") as url:
        yield url


@pytest.fixture
def kdf_cost() -> KdfCost:
    return TEST_COST


@pytest.fixture(scope="session")
def keyring() -> Keyring:
    return Keyring.generate()


@pytest.fixture
def routing_toml(keyring: Keyring) -> str:
    return routing_table_toml(keyring)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "var",
        database_url=database_url,
        report_limit="0",
        # Refusals are not slowed here (tests refuse one source many times on purpose);
        # tests/intake/http/test_tarpit.py turns it on.
        refusal_delay_s=0,
        twilio_auth_token="test-twilio-token",  # noqa: S106 - a test value
        public_url="https://intake.example.org",
    )


@pytest.fixture
def loaded_routing(settings: Settings, routing_toml: str) -> str:
    engine = make_engine(settings.resolved_database_url)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            store_table(session, routing_toml, loaded_by="tests")
    finally:
        engine.dispose()
    return routing_toml


@pytest.fixture
def app(settings: Settings, loaded_routing: str, kdf_cost: KdfCost) -> FastAPI:
    return create_app(settings, channels=installed(), receipt_cost=kdf_cost)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="https://intake.example.org") as test_client:
        yield test_client
