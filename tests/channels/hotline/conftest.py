"""Staff accounts for the hotline tests: an operator and the roles that are not."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from testkit import staff

from crypto.kdf import KdfCost

PASSWORD = "a long operator passphrase"
# username -> (role, focal point id, country)
ACCOUNTS: dict[str, tuple[str, str | None, str | None]] = {
    "op-amina": ("operator", None, "KE"),
    "fp-unicef": ("focal_point", "ke-unicef", None),
    "coord-ke": ("coordinator", None, "KE"),
    "admin": ("admin", None, None),
}


def sign_in(client: TestClient, username: str) -> dict[str, str]:
    return staff.bearer(client, username, PASSWORD)


@pytest.fixture
def accounts(app: FastAPI, client: TestClient, kdf_cost: KdfCost) -> dict[str, str]:
    """Creates ACCOUNTS (the client fixture has started the app); returns the password."""
    staff.create_accounts(app, kdf_cost, ACCOUNTS, password=PASSWORD)
    return {username: PASSWORD for username in ACCOUNTS}


@pytest.fixture
def headers(client: TestClient, accounts: dict[str, str]) -> dict[str, dict[str, str]]:
    """Bearer headers by username."""
    return {username: sign_in(client, username) for username in accounts}
