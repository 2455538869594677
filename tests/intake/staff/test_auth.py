"""POST /api/v1/auth/token and bearer tokens: issue, expiry, revocation, lockout."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, text, update

from intake.cli import main
from intake.models import AuditEvent, StaffToken, StaffUser, utcnow
from intake.staff.auth import LOCK_AFTER
from intake.staff.tokens import token_hash

MakeAccount = Callable[..., str]


def sign_in(client: TestClient, username: str, password: str, **extra: str) -> Any:
    return client.post(
        "/api/v1/auth/token", data={"username": username, "password": password, **extra}
    )


def cases(client: TestClient, token: str) -> int:
    response = client.get("/api/v1/cases", headers={"Authorization": f"Bearer {token}"})
    return response.status_code


def test_a_token_is_issued_and_stored_only_as_a_keyed_hash(
    app: FastAPI, client: TestClient, make_account: MakeAccount, password: str
) -> None:
    make_account("amina")
    response = sign_in(client, "amina", password)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == app.state.context.settings.token_ttl_minutes * 60
    token = body["access_token"]
    assert len(token) >= 43
    assert cases(client, token) == 200
    with app.state.context.sessions() as session:
        stored = session.scalars(select(StaffToken)).one()
        dump = repr(session.execute(text("SELECT * FROM staff_tokens")).all())
    assert stored.token_hash == token_hash(app.state.context.secret, token)
    assert token not in dump
    assert (stored.expires_at - stored.created_at) == timedelta(minutes=8 * 60)


def test_wrong_password_and_unknown_user_get_the_same_401(
    client: TestClient, make_account: MakeAccount, password: str
) -> None:
    make_account("amina")
    wrong = sign_in(client, "amina", password + "!")
    unknown = sign_in(client, "nobody", password)
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.headers["content-type"].startswith("application/problem+json")
    assert set(wrong.json()) == {"type", "title", "status", "detail"}
    assert password not in wrong.text


@pytest.mark.parametrize("data", [{"username": "amina"}, {"password": "x"}, {}])
def test_missing_form_fields_are_422(
    client: TestClient, make_account: MakeAccount, data: dict[str, str]
) -> None:
    make_account("amina")
    response = client.post("/api/v1/auth/token", data=data)
    assert response.status_code == 422
    assert "x" not in response.json()["detail"].split()


def test_an_expired_token_is_401(
    app: FastAPI, client: TestClient, make_account: MakeAccount, password: str
) -> None:
    make_account("amina")
    token = sign_in(client, "amina", password).json()["access_token"]
    with app.state.context.sessions() as session, session.begin():
        session.execute(update(StaffToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    response = client.get("/api/v1/cases", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.usefixtures("cli_env")
def test_intake_users_revoke_ends_every_token_of_the_account(
    app: FastAPI,
    client: TestClient,
    make_account: MakeAccount,
    password: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    make_account("amina")
    make_account("baraka", focal_point_id="ke-wfp")
    first = sign_in(client, "amina", password).json()["access_token"]
    second = sign_in(client, "amina", password).json()["access_token"]
    other = sign_in(client, "baraka", password).json()["access_token"]
    assert main(["users", "revoke", "--username", "amina"]) == 0
    assert "revoked 2 tokens of amina" in capsys.readouterr().out
    assert cases(client, first) == cases(client, second) == 401
    assert cases(client, other) == 200
    fresh = sign_in(client, "amina", password).json()["access_token"]
    assert cases(client, fresh) == 200
    with app.state.context.sessions() as session:
        entry = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "staff.tokens_revoked")
        ).one()
    assert entry.actor.startswith("cli")


@pytest.mark.parametrize(
    "header", ["", "Bearer", "Bearer ", "Basic YWxhZGRpbjpvcGVuc2VzYW1l", "Bearer " + "x" * 300]
)
def test_missing_or_malformed_authorization_is_401(
    client: TestClient, make_account: MakeAccount, header: str
) -> None:
    headers = {"Authorization": header} if header else {}
    response = client.get("/api/v1/cases", headers=headers)
    assert response.status_code == 401
    assert set(response.json()) == {"type", "title", "status", "detail"}


def test_five_failures_lock_the_account_and_success_resets_the_count(
    app: FastAPI, client: TestClient, make_account: MakeAccount, password: str
) -> None:
    make_account("amina")
    for _ in range(LOCK_AFTER - 1):
        assert sign_in(client, "amina", "wrong").status_code == 401
    assert sign_in(client, "amina", password).status_code == 200  # resets the count
    for _ in range(LOCK_AFTER):
        assert sign_in(client, "amina", "wrong").status_code == 401
    locked = sign_in(client, "amina", password)  # right password, but locked
    assert locked.status_code == 429
    assert 0 < int(locked.headers["retry-after"]) <= 15 * 60 + 1
    assert "locked" in locked.json()["detail"]
    with app.state.context.sessions() as session, session.begin():
        user = session.scalars(select(StaffUser)).one()
        assert user.locked_until is not None
        user.locked_until = utcnow() - timedelta(seconds=1)  # fifteen minutes later
    assert sign_in(client, "amina", password).status_code == 200
    with app.state.context.sessions() as session:
        user = session.scalars(select(StaffUser)).one()
        assert (user.failed_logins, user.locked_until) == (0, None)


def test_unknown_usernames_lock_the_same_way(client: TestClient, make_account: MakeAccount) -> None:
    make_account("amina")
    for _ in range(LOCK_AFTER):
        assert sign_in(client, "ghost", "guess").status_code == 401
    assert sign_in(client, "ghost", "guess").status_code == 429
    assert sign_in(client, "amina", "wrong").status_code == 401  # others are not affected


def test_failed_sign_ins_are_audited_without_the_typed_values(
    app: FastAPI, client: TestClient, make_account: MakeAccount
) -> None:
    make_account("amina")
    sign_in(client, "amina", "Wrong-Secret-1")
    sign_in(client, "Wrong-Secret-2", "whatever")
    with app.state.context.sessions() as session:
        entries = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "auth.failed").order_by(AuditEvent.id)
        ).all()
    assert [entry.actor for entry in entries] == ["amina", "-"]
    assert "Wrong-Secret" not in repr([(e.actor, e.detail) for e in entries])


def test_a_disabled_account_cannot_sign_in_or_use_its_tokens(
    app: FastAPI, client: TestClient, make_account: MakeAccount, password: str
) -> None:
    make_account("amina")
    token = sign_in(client, "amina", password).json()["access_token"]
    with app.state.context.sessions() as session, session.begin():
        session.execute(update(StaffUser).values(disabled=True))
    assert cases(client, token) == 401
    assert sign_in(client, "amina", password).status_code == 401
