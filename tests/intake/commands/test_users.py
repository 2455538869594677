"""`intake users add` and `intake users revoke`, run in-process against the test database."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from testkit.staff import bearer

from crypto.passwords import verify_password
from intake.cli import main
from intake.db import make_engine, make_sessionmaker
from intake.models import AuditEvent, StaffUser
from intake.settings import Settings
from intake.staff.auth import Credentials
from intake.staff.sessions import open_session, staff_for_session


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> Settings:
    monkeypatch.setenv("INTAKE_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("INTAKE_DATABASE_URL", settings.resolved_database_url)
    return settings


@pytest.fixture
def password_file(tmp_path: Path) -> Path:
    path = tmp_path / "password.txt"
    path.write_text("Passphrase with spaces \n", encoding="utf-8")
    return path


def users(settings: Settings) -> list[StaffUser]:
    engine = make_engine(settings.resolved_database_url)
    try:
        with make_sessionmaker(engine)() as session:
            return list(session.scalars(select(StaffUser).order_by(StaffUser.id)))
    finally:
        engine.dispose()


def one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert "Traceback" not in captured.err
    assert "usage:" not in captured.err
    return lines[0]


@pytest.mark.usefixtures("loaded_routing")
def test_add_a_focal_point_with_an_argon2id_password(
    cli_env: Settings, password_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["users", "add", "--username", "amina", "--role", "focal_point",
         "--password-file", str(password_file), "--focal-point", "ke-unicef"]
    )  # fmt: skip
    assert code == 0, capsys.readouterr().err
    assert "created focal_point account amina" in capsys.readouterr().out
    (user,) = users(cli_env)
    assert (user.role, user.focal_point_id, user.country) == ("focal_point", "ke-unicef", None)
    assert user.password_hash.startswith("$argon2id$v=19$m=65536,t=2,")  # INTERACTIVE
    assert "Passphrase" not in user.password_hash
    # One trailing newline is removed, nothing else (SPEC section 9).
    assert verify_password(user.password_hash, "Passphrase with spaces ")
    assert not verify_password(user.password_hash, "Passphrase with spaces")
    engine = make_engine(cli_env.resolved_database_url)
    try:
        with make_sessionmaker(engine)() as session:
            entry = session.scalars(
                select(AuditEvent).where(AuditEvent.action == "staff.user_added")
            ).one()
    finally:
        engine.dispose()
    assert "Passphrase" not in entry.detail


@pytest.mark.usefixtures("loaded_routing")
@pytest.mark.parametrize(
    ("role", "extra"),
    [("coordinator", ["--country", "KE"]), ("operator", []), ("admin", [])],
)
def test_add_the_other_roles(
    cli_env: Settings, password_file: Path, role: str, extra: list[str]
) -> None:
    args = [
        "users",
        "add",
        "--username",
        "u1",
        "--role",
        role,
        "--password-file",
        str(password_file),
    ]
    assert main([*args, *extra]) == 0
    assert [(u.username, u.role) for u in users(cli_env)] == [("u1", role)]


@pytest.mark.usefixtures("loaded_routing")
@pytest.mark.parametrize(
    ("extra", "says"),
    [
        (
            ["--role", "focal_point", "--focal-point", "ke-nobody"],
            "not in the active routing table",
        ),
        (["--role", "focal_point"], "--focal-point"),
        (["--role", "coordinator"], "--country"),
        (["--role", "coordinator", "--country", "ke"], "--country"),
        (["--role", "coordinator", "--country", "XX"], "--country"),
        (["--role", "operator", "--focal-point", "ke-unicef"], "--focal-point"),
        (["--role", "superuser"], "role"),
        (
            ["--role", "focal_point", "--focal-point", "ke-unicef", "--username", "bad name"],
            "username",
        ),
    ],
)
def test_bad_accounts_are_one_line_user_errors(
    cli_env: Settings,
    password_file: Path,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    says: str,
) -> None:
    args = ["users", "add", "--username", "amina", "--password-file", str(password_file), *extra]
    assert main(args) == 1
    assert says in one_line_error(capsys)
    assert users(cli_env) == []


@pytest.mark.usefixtures("loaded_routing")
def test_a_duplicate_username_is_a_user_error(
    cli_env: Settings, password_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["users", "add", "--username", "amina", "--role", "admin",
            "--password-file", str(password_file)]  # fmt: skip
    assert main(args) == 0
    assert main(args) == 1
    assert "already exists" in one_line_error(capsys)
    args[args.index("amina")] = "Amina"  # differing only in case: also taken
    assert main(args) == 1
    assert "already exists" in one_line_error(capsys)
    assert len(users(cli_env)) == 1


@pytest.mark.usefixtures("loaded_routing")
@pytest.mark.parametrize("content", [b"", b"\n", None, b"\xff\xfe"])
def test_empty_missing_or_unreadable_password_files_are_user_errors(
    cli_env: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes | None
) -> None:
    path = tmp_path / "pw"
    if content is not None:
        path.write_bytes(content)
    args = ["users", "add", "--username", "amina", "--role", "admin", "--password-file", str(path)]
    assert main(args) == 1
    assert "password file" in one_line_error(capsys)
    assert users(cli_env) == []


def test_a_focal_point_needs_a_loaded_routing_table(
    cli_env: Settings, password_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["users", "add", "--username", "amina", "--role", "focal_point",
            "--password-file", str(password_file), "--focal-point", "ke-unicef"]  # fmt: skip
    assert main(args) == 1
    assert "no routing table" in one_line_error(capsys)


def test_revoking_an_unknown_account_is_a_user_error(
    cli_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["users", "revoke", "--username", "ghost"]) == 1
    assert "no account" in one_line_error(capsys)


@pytest.mark.usefixtures("loaded_routing")
def test_revoke_of_an_account_without_tokens_says_zero(
    cli_env: Settings, password_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add = ["users", "add", "--username", "amina", "--role", "admin",
           "--password-file", str(password_file)]  # fmt: skip
    assert main(add) == 0
    assert main(["users", "revoke", "--username", "amina"]) == 0
    assert "revoked 0 tokens of amina" in capsys.readouterr().out


@pytest.mark.usefixtures("loaded_routing")
def test_password_sets_a_new_one_and_ends_every_token(
    cli_env: Settings,
    client: TestClient,
    password_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    old = "Passphrase with spaces "
    add = ["users", "add", "--username", "amina", "--role", "focal_point",
           "--password-file", str(password_file), "--focal-point", "ke-unicef"]  # fmt: skip
    assert main(add) == 0
    tokens = [bearer(client, "amina", old) for _ in range(2)]
    assert all(client.get("/api/v1/cases", headers=t).status_code == 200 for t in tokens)
    context = client.app.state.context  # type: ignore[attr-defined]
    web = open_session(context, Credentials(username="amina", password=old))
    assert staff_for_session(context, web.cookie) is not None
    new_file = tmp_path / "new-password.txt"
    new_file.write_text("a brand new passphrase\n", encoding="utf-8")
    capsys.readouterr()
    change = ["users", "password", "--username", "amina", "--password-file", str(new_file)]
    assert main(change) == 0
    assert capsys.readouterr().out.strip() == "new password set for amina; ended 2 tokens"
    assert all(client.get("/api/v1/cases", headers=t).status_code == 401 for t in tokens)
    assert staff_for_session(context, web.cookie) is None  # the web session ended too
    refused = client.post("/api/v1/auth/token", data={"username": "amina", "password": old})
    assert refused.status_code == 401
    fresh = bearer(client, "amina", "a brand new passphrase")
    assert client.get("/api/v1/cases", headers=fresh).status_code == 200
    (user,) = users(cli_env)
    assert verify_password(user.password_hash, "a brand new passphrase")
    engine = make_engine(cli_env.resolved_database_url)
    try:
        with make_sessionmaker(engine)() as session:
            entry = session.scalars(
                select(AuditEvent).where(AuditEvent.action == "staff.password_set")
            ).one()
    finally:
        engine.dispose()
    assert "passphrase" not in entry.detail


def test_password_of_an_unknown_account_or_an_empty_file_is_a_user_error(
    cli_env: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    good = tmp_path / "good.txt"
    good.write_text("secret words", encoding="utf-8")
    assert main(["users", "password", "--username", "ghost", "--password-file", str(good)]) == 1
    assert "no account" in one_line_error(capsys)
    assert main(["users", "password", "--username", "ghost", "--password-file", str(empty)]) == 1
    assert "empty" in one_line_error(capsys)
