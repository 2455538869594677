"""`intake users list|disable|enable|totp --remove` and the focal point check before any load."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from testkit.staff import bearer

from intake.cli import main
from intake.settings import Settings
from intake.staff.auth import Credentials
from intake.staff.sessions import open_session, staff_for_session

PASSWORD = "Passphrase for admin tests"


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> Settings:
    monkeypatch.setenv("INTAKE_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("INTAKE_DATABASE_URL", settings.resolved_database_url)
    return settings


@pytest.fixture
def password_file(tmp_path: Path) -> Path:
    path = tmp_path / "password.txt"
    path.write_text(PASSWORD + "\n", encoding="utf-8")
    return path


def add(password_file: Path, username: str, role: str, *extra: str) -> int:
    return main(
        ["users", "add", "--username", username, "--role", role,
         "--password-file", str(password_file), *extra]
    )  # fmt: skip


@pytest.mark.usefixtures("loaded_routing")
def test_list_shows_every_account_without_secrets(
    cli_env: Settings,
    client: TestClient,
    password_file: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert add(password_file, "amina", "focal_point", "--focal-point", "ke-unicef") == 0
    assert add(password_file, "chris", "coordinator", "--country", "KE") == 0
    assert main(["users", "totp", "--username", "chris"]) == 0
    bearer(client, "amina", PASSWORD)
    capsys.readouterr()
    assert main(["users", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    amina, chris = (line.split(" ") for line in lines)
    assert amina[:5] == ["amina", "focal_point", "ke-unicef", "enabled", "totp:no"]
    assert amina[5].endswith("Z")
    assert chris == ["chris", "coordinator", "KE", "enabled", "totp:yes", "never"]
    assert PASSWORD not in "\n".join(lines)


@pytest.mark.usefixtures("loaded_routing")
def test_disable_ends_tokens_and_sessions_and_refuses_sign_in_until_enabled(
    cli_env: Settings,
    client: TestClient,
    password_file: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert add(password_file, "amina", "focal_point", "--focal-point", "ke-unicef") == 0
    token = bearer(client, "amina", PASSWORD)
    context = client.app.state.context  # type: ignore[attr-defined]
    web = open_session(context, Credentials(username="amina", password=PASSWORD))
    capsys.readouterr()
    assert main(["users", "disable", "--username", "amina"]) == 0
    said = capsys.readouterr().out.strip()
    assert said == "disabled amina; ended 1 tokens and 1 web sessions"
    assert client.get("/api/v1/cases", headers=token).status_code == 401
    assert staff_for_session(context, web.cookie) is None
    form = {"username": "amina", "password": PASSWORD}
    assert client.post("/api/v1/auth/token", data=form).status_code == 401
    assert main(["users", "list"]) == 0
    assert " disabled " in capsys.readouterr().out
    assert main(["users", "enable", "--username", "amina"]) == 0
    assert capsys.readouterr().out.strip() == "enabled amina"
    assert client.get("/api/v1/cases", headers=bearer(client, "amina", PASSWORD)).status_code == 200


@pytest.mark.usefixtures("loaded_routing")
def test_totp_remove(
    cli_env: Settings, password_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert add(password_file, "chris", "admin") == 0
    capsys.readouterr()
    assert main(["users", "totp", "--username", "chris"]) == 0
    assert capsys.readouterr().out.strip().startswith("otpauth://")
    assert main(["users", "totp", "--username", "chris", "--remove"]) == 0
    assert capsys.readouterr().out.strip() == "TOTP removed from chris"
    assert main(["users", "totp", "--username", "chris", "--remove"]) == 1
    assert "does not use TOTP" in capsys.readouterr().err
    assert main(["users", "totp", "--username", "chris"]) == 0  # enrols afresh


def test_unknown_accounts_are_one_line_errors(
    cli_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    for action in ("disable", "enable"):
        assert main(["users", action, "--username", "ghost"]) == 1
        assert "no account" in capsys.readouterr().err


def test_before_any_load_the_focal_point_is_checked_against_the_routing_file(
    cli_env: Settings,
    routing_toml: str,
    password_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    table = tmp_path / "routing.toml"
    table.write_text(routing_toml, encoding="utf-8")
    monkeypatch.setenv("INTAKE_ROUTING_FILE", str(table))
    assert add(password_file, "nobody", "focal_point", "--focal-point", "xx-missing") == 1
    assert "xx-missing is not in the active routing table" in capsys.readouterr().err
    assert add(password_file, "amina", "focal_point", "--focal-point", "ke-unicef") == 0
