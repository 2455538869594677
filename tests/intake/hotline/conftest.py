"""Staff accounts for the hotline tests: an operator and the roles that are not."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from crypto.kdf import KdfCost
from intake.db import transaction
from intake.staff.service import NewAccount, add_user

PASSWORD = "a long operator passphrase"
# username -> (role, focal point id, country)
ACCOUNTS: dict[str, tuple[str, str | None, str | None]] = {
    "op-amina": ("operator", None, "KE"),
    "fp-unicef": ("focal_point", "ke-unicef", None),
    "coord-ke": ("coordinator", None, "KE"),
    "admin": ("admin", None, None),
}


def sign_in(client: TestClient, username: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/token", data={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture
def accounts(app: FastAPI, client: TestClient, kdf_cost: KdfCost) -> dict[str, str]:
    """Creates ACCOUNTS (the client fixture has started the app); returns the password."""
    context = app.state.context
    with transaction(context.sessions) as session:
        table = context.routing.active(session).table
        for username, (role, focal_point, country) in ACCOUNTS.items():
            account = NewAccount(
                username=username,
                role=role,
                password=PASSWORD,
                focal_point_id=focal_point,
                country=country,
            )
            add_user(session, account, table=table, cost=kdf_cost)
    return {username: PASSWORD for username in ACCOUNTS}


@pytest.fixture
def headers(client: TestClient, accounts: dict[str, str]) -> dict[str, dict[str, str]]:
    """Bearer headers by username."""
    return {username: sign_in(client, username) for username in accounts}
