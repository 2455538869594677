"""Accounts made through the service with a cheap KDF cost, and the CLI pointed at the test DB."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from crypto.kdf import KdfCost
from intake.db import transaction
from intake.settings import Settings
from intake.staff.service import NewAccount, add_user

PASSWORD = "correct horse battery staple"


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def make_account(app: FastAPI, client: TestClient, kdf_cost: KdfCost) -> Callable[..., str]:
    """Create an account (default: a ke-unicef focal point) and return its username."""

    def make(username: str = "amina", role: str = "focal_point", **fields: str) -> str:
        if role == "focal_point":
            fields.setdefault("focal_point_id", "ke-unicef")
        if role == "coordinator":
            fields.setdefault("country", "KE")
        context = app.state.context
        with transaction(context.sessions) as session:
            table = context.routing.active(session).table
            account = NewAccount(username=username, role=role, password=PASSWORD, **fields)
            add_user(session, account, table=table, cost=kdf_cost)
        return username

    return make


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    """`intake ...` run in-process reaches the same database and secret file as the app."""
    monkeypatch.setenv("INTAKE_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("INTAKE_DATABASE_URL", settings.resolved_database_url)
