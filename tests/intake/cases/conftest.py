"""Staff accounts of every role with live tokens, and cases filed through the API."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from testkit import staff as staff_accounts
from testkit.cases import report

from crypto.kdf import KdfCost

PASSWORD = "a long staff passphrase"

# name -> (role, focal point id, country)
ACCOUNTS: dict[str, tuple[str, str | None, str | None]] = {
    "unicef": ("focal_point", "ke-unicef", None),
    "wfp": ("focal_point", "ke-wfp", None),
    "network": ("focal_point", "ke-coordinator", None),
    "unhcr": ("focal_point", "so-unhcr", None),
    "coord-ke": ("coordinator", None, "KE"),
    "coord-so": ("coordinator", None, "SO"),
    "operator": ("operator", None, None),
    "admin": ("admin", None, None),
}


@dataclass(frozen=True)
class Filed:
    case_ref: str
    receipt: str


Headers = dict[str, dict[str, str]]
FileReport = Callable[..., Filed]


def create_accounts(app: FastAPI, kdf_cost: KdfCost, names: dict[str, Any]) -> None:
    staff_accounts.create_accounts(app, kdf_cost, names, password=PASSWORD)


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    return staff_accounts.bearer(client, username, password)


@pytest.fixture
def staff_password() -> str:
    return PASSWORD


@pytest.fixture
def staff(app: FastAPI, client: TestClient, kdf_cost: KdfCost) -> Headers:
    """Authorization headers by account name (see ACCOUNTS)."""
    create_accounts(app, kdf_cost, ACCOUNTS)
    return {name: sign_in(client, name) for name in ACCOUNTS}


@pytest.fixture
def file_report(client: TestClient) -> FileReport:
    """File a report through POST /api/v1/reports (default: KE, UNICEF -> ke-unicef)."""

    def file(**overrides: Any) -> Filed:
        response = client.post("/api/v1/reports", json=report(**overrides))
        assert response.status_code == 201, response.text
        body = response.json()
        return Filed(body["case_ref"], body["receipt"])

    return file
