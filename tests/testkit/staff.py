"""Staff accounts for tests: create them in the app's database and sign them in."""

from __future__ import annotations

import re
from collections.abc import Mapping

from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response

from crypto.kdf import KdfCost
from intake.db import transaction
from intake.staff.service import NewAccount, add_user

# username -> (role, focal point id or None, country or None)
AccountSpec = tuple[str, str | None, str | None]


def create_accounts(
    app: FastAPI, kdf_cost: KdfCost, accounts: Mapping[str, AccountSpec], *, password: str
) -> None:
    """Add the accounts in one transaction, checked against the active routing table."""
    context = app.state.context
    with transaction(context.sessions) as session:
        table = context.routing.active(session).table
        for username, (role, focal_point, country) in accounts.items():
            account = NewAccount(
                username=username,
                role=role,
                password=password,
                focal_point_id=focal_point,
                country=country,
            )
            add_user(session, account, table=table, cost=kdf_cost)


def bearer(client: TestClient, username: str, password: str) -> dict[str, str]:
    """The Authorization header of a fresh token for this account."""
    response = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def csrf_of(html: str) -> str:
    """The CSRF hidden field's value in a rendered page."""
    match = re.search(r'name="csrf_token" value="([0-9a-f]+)"', html)
    assert match, "the page has no CSRF field"
    return match.group(1)


def page_sign_in(client: TestClient, username: str, password: str, **extra: str) -> Response:
    """Sign in at /staff/login as a browser would (the form, then its POST); not followed."""
    page = client.get("/staff/login")
    form = {"username": username, "password": password, "csrf_token": csrf_of(page.text), **extra}
    return client.post("/staff/login", data=form, follow_redirects=False)
