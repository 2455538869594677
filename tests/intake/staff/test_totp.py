"""TOTP: enrol with `intake users totp`, then the one-time code is required, once per step."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pyotp
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from intake.cli import main
from intake.models import StaffUser, utcnow

MakeAccount = Callable[..., str]
pytestmark = pytest.mark.usefixtures("cli_env")


def enrol(capsys: pytest.CaptureFixture[str], username: str, *extra: str) -> pyotp.TOTP:
    assert main(["users", "totp", "--username", username, *extra]) == 0
    uri = capsys.readouterr().out.strip()
    assert uri.startswith("otpauth://totp/psea-intake:")
    totp = pyotp.parse_uri(uri)
    assert isinstance(totp, pyotp.TOTP)
    return totp


def sign_in(client: TestClient, password: str, otp: str | None = None) -> Any:
    data = {"username": "amina", "password": password}
    if otp is not None:
        data["otp"] = otp
    return client.post("/api/v1/auth/token", data=data)


def test_once_enrolled_the_code_is_required(
    app: FastAPI,
    client: TestClient,
    make_account: MakeAccount,
    password: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    make_account("amina")
    assert sign_in(client, password).status_code == 200
    totp = enrol(capsys, "amina")
    assert sign_in(client, password).status_code == 401
    previous_step = totp.at(utcnow() - timedelta(seconds=30))
    wrong = "000000" if totp.now() != "000000" else "111111"
    if wrong == previous_step:
        wrong = "222222"
    assert sign_in(client, password, wrong).status_code == 401
    assert sign_in(client, "wrong", totp.now()).status_code == 401
    assert sign_in(client, password, totp.now()).status_code == 200
    with app.state.context.sessions() as session:
        user = session.scalars(select(StaffUser)).one()
    assert user.totp_sealed is not None
    assert totp.secret.encode() not in user.totp_sealed


def test_a_code_cannot_be_used_twice(
    client: TestClient, make_account: MakeAccount, password: str, capsys: pytest.CaptureFixture[str]
) -> None:
    make_account("amina")
    totp = enrol(capsys, "amina")
    code = totp.now()
    assert sign_in(client, password, code).status_code == 200
    assert sign_in(client, password, code).status_code == 401
    # An older step than the one used is refused too (no replay from the drift window).
    assert sign_in(client, password, totp.at(utcnow() - timedelta(seconds=30))).status_code == 401


def test_enrolling_again_needs_replace_and_invalidates_the_old_secret(
    client: TestClient, make_account: MakeAccount, password: str, capsys: pytest.CaptureFixture[str]
) -> None:
    make_account("amina")
    old = enrol(capsys, "amina")
    assert main(["users", "totp", "--username", "amina"]) == 1
    assert "--replace" in capsys.readouterr().err
    new = enrol(capsys, "amina", "--replace")
    assert new.secret != old.secret
    if old.now() != new.now():
        assert sign_in(client, password, old.now()).status_code == 401
    assert sign_in(client, password, new.now()).status_code == 200


def test_totp_for_an_unknown_account_is_a_user_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["users", "totp", "--username", "ghost"]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
