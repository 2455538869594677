"""INTAKE_SIGNIN_LIMIT and the password pool (SPEC 15): failures per address, own KDF slots."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from channels.registry import installed
from crypto.kdf import KdfCost
from intake.app import create_app
from intake.context import AppContext
from intake.settings import Settings
from intake.staff import auth

ClientFrom = Callable[[str], TestClient]
MakeAccount = Callable[..., str]


@pytest.fixture
def app(settings: Settings, loaded_routing: str, kdf_cost: KdfCost) -> FastAPI:
    limited = settings.model_copy(update={"signin_limit": "3/hour"})
    return create_app(limited, channels=installed(), receipt_cost=kdf_cost)


@pytest.fixture
def client_from(app: FastAPI, client: TestClient) -> Iterator[ClientFrom]:
    """More clients of the running app (the `client` fixture started it), by address."""
    with ExitStack() as stack:

        def make(address: str) -> TestClient:
            other = TestClient(app, base_url="https://intake.example.org", client=(address, 1))
            stack.callback(other.close)
            return other

        yield make


def _sign_in(client: TestClient, username: str, password: str) -> Any:
    return client.post("/api/v1/auth/token", data={"username": username, "password": password})


def test_failures_from_one_address_are_limited_and_the_password_is_then_not_checked(
    client_from: ClientFrom,
    make_account: MakeAccount,
    password: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    make_account("amina")
    guesser = client_from("192.0.2.10")
    statuses = [
        _sign_in(guesser, name, "wrong password").status_code
        for name in ("amina", "nobody", "someone")
    ]
    assert statuses == [401, 401, 401]
    checked: list[str] = []
    real_verify = auth.verify_password
    monkeypatch.setattr(
        auth, "verify_password", lambda *a: checked.append("verify") or real_verify(*a)
    )
    refused = _sign_in(guesser, "amina", password)  # even the right password
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert checked == []
    assert _sign_in(client_from("192.0.2.11"), "amina", password).status_code == 200
    assert checked == ["verify"]


def test_successful_sign_ins_do_not_count(
    client_from: ClientFrom, make_account: MakeAccount, password: str
) -> None:
    make_account("amina")
    office = client_from("192.0.2.20")
    assert [_sign_in(office, "amina", password).status_code for _ in range(5)] == [200] * 5


class _NoSlots:
    """A receipt KDF pool that is always full: using it is the failure."""

    def run(self, function: Callable[[], object]) -> object:
        raise AssertionError("a sign-in waited for the receipt KDF's slots")


def test_sign_ins_never_use_the_receipt_kdf_slots(
    app: FastAPI, client: TestClient, make_account: MakeAccount, password: str
) -> None:
    make_account("amina")
    context: AppContext = app.state.context
    context.kdf = _NoSlots()  # type: ignore[assignment]
    assert _sign_in(client, "nobody", password).status_code == 401
    assert _sign_in(client, "amina", "wrong").status_code == 401
    assert _sign_in(client, "amina", password).status_code == 200
