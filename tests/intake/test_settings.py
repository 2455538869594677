"""Settings: SPEC section 2 defaults, one-line errors, the 0600 secret file."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from pydantic import ValidationError

from crypto.server_secret import SecretFileError, load_or_create
from intake.settings import RateLimit, Settings, describe_settings_error


def test_defaults_follow_the_spec() -> None:
    settings = Settings()
    assert settings.data_dir == Path("./var")
    assert settings.resolved_database_url == "sqlite:///var/intake.db"
    assert settings.resolved_secret_file == Path("var/secret.key")
    assert settings.report_rate == RateLimit(60, 3600)
    assert settings.log_level == "info"
    assert not settings.sms_enabled


@pytest.mark.parametrize(
    ("text", "expected"),
    [("5/second", RateLimit(5, 1)), ("10/minute", RateLimit(10, 60)), ("0", RateLimit(0, 3600))],
)
def test_rate_limits_parse(text: str, expected: RateLimit) -> None:
    assert RateLimit.parse(text) == expected


def test_bad_value_gives_one_line_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTAKE_REPORT_LIMIT", "lots")
    with pytest.raises(ValidationError) as caught:
        Settings()
    line = describe_settings_error(caught.value)
    assert "\n" not in line
    assert "INTAKE_REPORT_LIMIT" in line
    assert "lots" not in line


def test_secret_value_never_in_the_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTAKE_TWILIO_ACCOUNT_SID", "SECRET-CANARY")
    with pytest.raises(ValidationError) as caught:
        Settings()
    assert "SECRET-CANARY" not in describe_settings_error(caught.value)


def test_receipt_kdf_cannot_go_below_the_spec(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTAKE_RECEIPT_KDF_MEMLIMIT_MIB", "8")
    with pytest.raises(ValidationError):
        Settings()


def test_secret_file_is_created_with_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "data" / "secret.key"
    first = load_or_create(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create(path).master == first.master
    assert "hidden" in repr(first)
    assert first.master.hex() not in repr(first)


def test_damaged_secret_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "secret.key"
    path.write_text("not hex")
    with pytest.raises(SecretFileError) as caught:
        load_or_create(path)
    assert "damaged" in str(caught.value)


def test_subkeys_differ_by_purpose(tmp_path: Path) -> None:
    secret = load_or_create(tmp_path / "secret.key")
    assert secret.subkey("lookup") != secret.subkey("source")
    assert len(secret.keyed_hash("phone", b"+254700000000")) == 32


@pytest.mark.parametrize(
    "url",
    ["nonsense", "nosuchdialect://x@localhost/db", "mysql://user:SECRET-CANARY@localhost/db"],
)
def test_unusable_database_url_is_a_one_line_error(
    monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.setenv("INTAKE_DATABASE_URL", url)
    with pytest.raises(ValidationError) as caught:
        Settings()
    line = describe_settings_error(caught.value)
    assert line.startswith("invalid configuration: INTAKE_DATABASE_URL: ")
    assert "\n" not in line
    assert "SECRET-CANARY" not in line


def test_postgresql_with_psycopg_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTAKE_DATABASE_URL", "postgresql+psycopg://u@127.0.0.1:1/db")
    assert Settings().resolved_database_url.startswith("postgresql+psycopg://")


def test_data_dir_that_is_a_file_is_a_one_line_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("x")
    monkeypatch.setenv("INTAKE_DATA_DIR", str(a_file / "below"))
    with pytest.raises(ValidationError) as caught:
        Settings()
    assert describe_settings_error(caught.value).startswith(
        "invalid configuration: INTAKE_DATA_DIR: folder"
    )
    monkeypatch.setenv("INTAKE_DATA_DIR", str(tmp_path / "new" / "deeper"))
    monkeypatch.setenv("INTAKE_DATABASE_URL", f"sqlite:///{a_file}/intake.db")
    with pytest.raises(ValidationError) as caught:
        Settings()
    assert "INTAKE_DATABASE_URL: the database folder" in describe_settings_error(caught.value)


def test_a_check_across_settings_is_not_named_as_a_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("INTAKE_TWILIO_ACCOUNT_SID", "xyz")
    with pytest.raises(ValidationError) as caught:
        Settings()
    line = describe_settings_error(caught.value)
    assert line.startswith("invalid configuration: INTAKE_TWILIO_ACCOUNT_SID must look like")
