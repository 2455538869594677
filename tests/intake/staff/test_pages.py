"""The one staff sign-in: /staff/login, /staff/logout, the session cookie and its ends."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pyotp
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, text, update
from testkit.staff import csrf_of, page_sign_in

from intake.cli import main
from intake.db import transaction
from intake.models import AuditEvent, StaffSession, utcnow
from intake.staff.auth import LOCK_AFTER
from intake.staff.sessions import session_hash

MakeAccount = Callable[..., str]
COOKIE = "__Host-staff_session"  # the test settings' INTAKE_PUBLIC_URL is https


def _set_cookie(response: object) -> str:
    headers = response.headers  # type: ignore[attr-defined]
    return next(v for k, v in headers.multi_items() if k == "set-cookie" and v.startswith(COOKIE))


@pytest.mark.parametrize(
    ("role", "landing"),
    [
        ("focal_point", "/inbox"),
        ("coordinator", "/dashboard"),
        ("admin", "/dashboard"),
        ("operator", "/hotline"),
    ],
)
def test_each_role_lands_on_its_page(
    client: TestClient, make_account: MakeAccount, password: str, role: str, landing: str
) -> None:
    make_account("amina", role=role)
    response = page_sign_in(client, "amina", password)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"{landing}?lang=en"
    assert response.headers["cache-control"] == "no-store"
    again = client.get("/staff/login", follow_redirects=False)
    assert again.status_code == 303  # already signed in
    assert again.headers["location"] == f"{landing}?lang=en"


@pytest.mark.parametrize(
    ("role", "links"),
    [
        ("focal_point", ["/inbox?lang=fr", "/staff/keys?lang=fr"]),
        ("coordinator", ["/dashboard?lang=fr"]),
        ("admin", ["/dashboard?lang=fr"]),
        ("operator", ["/hotline?lang=fr"]),
    ],
)
def test_the_staff_home_links_each_role_to_its_own_pages(
    client: TestClient, make_account: MakeAccount, password: str, role: str, links: list[str]
) -> None:
    make_account("amina", role=role)
    page_sign_in(client, "amina", password)
    page = client.get("/staff?lang=fr")
    assert page.status_code == 200
    listed = page.text.split('<ul class="st-home">')[1].split("</ul>")[0]
    assert re.findall(r'href="([^"]+)"', listed) == links
    assert "not installed" not in page.text


def test_the_session_cookie_is_host_only_secure_strict_and_stored_as_a_hash(
    app: FastAPI, client: TestClient, make_account: MakeAccount, password: str
) -> None:
    make_account("amina")
    cookie = _set_cookie(page_sign_in(client, "amina", password))
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"httponly", "secure", "path", "samesite", "max-age"} <= attributes
    assert "Path=/;" in cookie + ";"
    assert "domain" not in attributes
    assert "samesite=strict" in cookie.lower()
    value = client.cookies[COOKIE]
    with app.state.context.sessions() as session:
        stored = session.scalars(select(StaffSession)).one()
        dump = repr(session.execute(text("SELECT * FROM staff_sessions")).all())
    assert stored.token_hash == session_hash(app.state.context, value)
    assert value not in dump


def test_a_wrong_password_or_unknown_user_shows_the_form_again(
    client: TestClient, make_account: MakeAccount, password: str
) -> None:
    make_account("amina")
    for username, typed in (("amina", password + "!"), ("nobody", password)):
        response = page_sign_in(client, username, typed)
        assert response.status_code == 401
        assert "password or one-time code is wrong" in response.text
        assert COOKIE not in response.headers.get("set-cookie", "")
        assert typed not in response.text


def test_sign_in_without_the_csrf_token_changes_nothing(
    app: FastAPI, client: TestClient, make_account: MakeAccount, password: str
) -> None:
    make_account("amina")
    client.get("/staff/login")
    response = client.post("/staff/login", data={"username": "amina", "password": password})
    assert response.status_code == 400
    forged = client.post(
        "/staff/login", data={"username": "amina", "password": password, "csrf_token": "0" * 64}
    )
    assert forged.status_code == 400
    with app.state.context.sessions() as session:
        assert session.scalars(select(StaffSession)).all() == []


def test_the_page_sign_in_shares_the_token_endpoints_lockout(
    client: TestClient, make_account: MakeAccount, password: str
) -> None:
    make_account("amina")
    for _ in range(LOCK_AFTER - 1):
        assert page_sign_in(client, "amina", "wrong").status_code == 401
    # The fifth failure, through the API, locks the page sign-in too.
    api = client.post("/api/v1/auth/token", data={"username": "amina", "password": "wrong"})
    assert api.status_code == 401
    locked = page_sign_in(client, "amina", password)
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) > 0
    assert COOKIE not in locked.headers.get("set-cookie", "")


@pytest.mark.usefixtures("cli_env")
def test_an_enrolled_account_needs_its_one_time_code_once(
    client: TestClient,
    make_account: MakeAccount,
    password: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    make_account("amina")
    assert main(["users", "totp", "--username", "amina"]) == 0
    totp = pyotp.parse_uri(capsys.readouterr().out.strip())
    assert isinstance(totp, pyotp.TOTP)
    assert page_sign_in(client, "amina", password).status_code == 401
    code = totp.now()
    assert page_sign_in(client, "amina", password, otp=code).status_code == 303
    client.cookies.clear()
    assert page_sign_in(client, "amina", password, otp=code).status_code == 401  # used once


def test_sign_out_ends_the_session_and_needs_the_csrf_token(
    app: FastAPI, client: TestClient, make_account: MakeAccount, password: str
) -> None:
    make_account("amina")
    page_sign_in(client, "amina", password)
    value = client.cookies[COOKIE]
    page = client.get("/staff")
    assert page.status_code == 200
    refused = client.post("/staff/logout", follow_redirects=False)
    assert refused.status_code == 303
    assert client.get("/staff", follow_redirects=False).status_code == 200  # still signed in
    response = client.post(
        "/staff/logout", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/staff/login?lang=en"
    assert COOKIE not in client.cookies
    client.cookies.set(COOKIE, value, path="/")  # replaying the old cookie
    assert client.get("/staff", follow_redirects=False).status_code == 303
    with app.state.context.sessions() as session:
        assert session.scalars(select(StaffSession)).one().ended_at is not None


def test_the_session_ends_after_the_idle_time_and_each_request_restarts_it(
    app: FastAPI, client: TestClient, make_account: MakeAccount, password: str
) -> None:
    make_account("amina")
    page_sign_in(client, "amina", password)
    idle = timedelta(minutes=app.state.context.settings.staff_idle_minutes)
    assert idle == timedelta(minutes=15)

    def seen(ago: timedelta) -> None:
        with transaction(app.state.context.sessions) as session:
            session.execute(update(StaffSession).values(last_seen_at=utcnow() - ago))

    seen(idle - timedelta(minutes=1))
    assert client.get("/staff", follow_redirects=False).status_code == 200
    with app.state.context.sessions() as session:
        last = session.scalars(select(StaffSession)).one().last_seen_at
    assert utcnow() - last < timedelta(minutes=1)  # the request restarted the clock
    seen(idle + timedelta(seconds=1))
    response = client.get("/staff", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/staff/login")


@pytest.mark.usefixtures("cli_env")
def test_intake_users_revoke_ends_the_web_sessions_of_the_account(
    app: FastAPI,
    client: TestClient,
    make_account: MakeAccount,
    password: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    make_account("amina")
    make_account("baraka", focal_point_id="ke-wfp")
    page_sign_in(client, "baraka", password)
    other = client.cookies[COOKIE]
    client.cookies.clear()
    page_sign_in(client, "amina", password)
    assert client.get("/staff", follow_redirects=False).status_code == 200
    assert main(["users", "revoke", "--username", "amina"]) == 0
    capsys.readouterr()
    assert client.get("/staff", follow_redirects=False).status_code == 303
    client.cookies.clear()
    client.cookies.set(COOKIE, other, path="/")
    assert client.get("/staff", follow_redirects=False).status_code == 200
    with app.state.context.sessions() as session:
        entry = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "staff.tokens_revoked")
        ).one()
    assert '"sessions":1' in entry.detail.replace(" ", "")


def test_the_sign_in_page_is_translated_and_right_to_left_in_arabic(client: TestClient) -> None:
    page = client.get("/staff/login?lang=ar")
    assert '<html lang="ar" dir="rtl">' in page.text
    assert page.headers["cache-control"] == "no-store"
