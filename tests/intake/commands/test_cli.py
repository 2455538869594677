"""The `intake` command as a user runs it: one line on a user error, no traceback."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from testkit.keys import Keyring, routing_table_toml

from crypto.envelope import case_aad, seal

INTAKE = [sys.executable, "-m", "intake.cli"]


def run(
    args: list[str], env: dict[str, str] | None = None, **kwargs: object
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("INTAKE_")}
    clean.update(env or {})
    return subprocess.run(  # type: ignore[call-overload, no-any-return]
        [*INTAKE, *args],
        capture_output=True,
        text=True,
        env=clean,
        timeout=120,
        check=False,
        **kwargs,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode != 0
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "usage:" not in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["nonsense"],
        ["serve", "--port", "abc"],
        ["keys", "new"],
        ["routing", "check"],
        ["routing", "check", "/does/not/exist.toml"],
    ],
)
def test_user_errors_are_one_line(args: list[str]) -> None:
    assert_one_line_error(run(args))


def test_bad_setting_is_one_line_naming_the_variable(tmp_path: Path) -> None:
    result = run(
        ["db", "upgrade"], env={"INTAKE_REPORT_LIMIT": "plenty", "INTAKE_DATA_DIR": str(tmp_path)}
    )
    assert_one_line_error(result)
    assert "INTAKE_REPORT_LIMIT" in result.stderr


def test_db_upgrade_creates_the_embedded_database(tmp_path: Path) -> None:
    result = run(["db", "upgrade"], env={"INTAKE_DATA_DIR": str(tmp_path / "var")})
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "var" / "intake.db").is_file()
    assert run(["db", "upgrade"], env={"INTAKE_DATA_DIR": str(tmp_path / "var")}).returncode == 0


def test_keys_new_and_case_decrypt_round_trip(tmp_path: Path) -> None:
    passphrase = tmp_path / "pass.txt"
    passphrase.write_text("correct horse battery\n", encoding="utf-8")
    key = tmp_path / "fp.key"
    created = run(["keys", "new", "--out", str(key), "--passphrase-file", str(passphrase)])
    assert created.returncode == 0, created.stderr
    printed = json.loads(created.stdout.strip())
    assert set(printed) == {"kid", "public_key"}
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert "correct horse" not in key.read_text()

    import base64

    public = base64.b64decode(printed["public_key"])
    envelope = seal({"narrative": "CANARY-decrypt"}, public_keys=[public], aad=case_aad("C-TEST"))
    case_file = tmp_path / "case.json"
    case_file.write_text(
        json.dumps({"case_ref": "C-TEST", "envelope": envelope, "status": "routed"})
    )
    opened = run(
        ["case", "decrypt", "--key", str(key), "--passphrase-file", str(passphrase), str(case_file)]
    )
    assert opened.returncode == 0, opened.stderr
    assert json.loads(opened.stdout)["narrative"] == "CANARY-decrypt"

    passphrase.write_text("wrong passphrase!\n", encoding="utf-8")
    wrong = run(
        ["case", "decrypt", "--key", str(key), "--passphrase-file", str(passphrase), str(case_file)]
    )
    assert_one_line_error(wrong)
    assert "CANARY" not in wrong.stderr + wrong.stdout


def test_keys_new_refuses_to_overwrite(tmp_path: Path) -> None:
    passphrase = tmp_path / "pass.txt"
    passphrase.write_text("long enough passphrase")
    key = tmp_path / "fp.key"
    key.write_text("existing")
    assert_one_line_error(
        run(["keys", "new", "--out", str(key), "--passphrase-file", str(passphrase)])
    )
    assert key.read_text() == "existing"


def test_routing_check_valid_and_invalid(tmp_path: Path, keyring: Keyring) -> None:
    good = tmp_path / "good.toml"
    good.write_text(routing_table_toml(keyring))
    assert run(["routing", "check", str(good)]).returncode == 0
    bad = tmp_path / "bad.toml"
    bad.write_text(routing_table_toml(keyring).replace('to = ["so-unhcr"]', 'to = ["nobody"]'))
    result = run(["routing", "check", str(bad)])
    assert result.returncode == 1
    assert "nobody" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_with_a_bad_table_exits_before_binding(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("this is not toml = = =")
    result = run(
        ["serve", "--port", "1"],
        env={"INTAKE_DATA_DIR": str(tmp_path / "var"), "INTAKE_ROUTING_FILE": str(bad)},
    )
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert str(bad) in result.stderr


def test_serve_with_twilio_but_no_public_url_exits_before_binding(tmp_path: Path) -> None:
    result = run(
        ["serve", "--port", "1"],
        env={"INTAKE_DATA_DIR": str(tmp_path / "var"), "INTAKE_TWILIO_AUTH_TOKEN": "x" * 32},
    )
    assert result.returncode == 1
    assert_one_line_error(result)
    assert "INTAKE_PUBLIC_URL" in result.stderr
    assert "x" * 32 not in result.stderr
    assert not (tmp_path / "var").exists()  # nothing done, nothing bound


@pytest.mark.parametrize(
    "env",
    [
        {"INTAKE_DATABASE_URL": "nonsense"},
        {"INTAKE_DATABASE_URL": "mysql://u:SECRET-CANARY@localhost/db"},
        {"INTAKE_LOG_LEVEL": "loud"},
        {"INTAKE_REPORT_LIMIT": "abc"},
    ],
)
def test_bad_environment_is_one_line(tmp_path: Path, env: dict[str, str]) -> None:
    result = run(["db", "upgrade"], env={"INTAKE_DATA_DIR": str(tmp_path / "var"), **env})
    assert_one_line_error(result)
    assert next(iter(env)) in result.stderr
    assert "SECRET-CANARY" not in result.stderr


def test_a_data_dir_that_is_a_file_is_one_line(tmp_path: Path) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("x")
    result = run(["worker", "--once"], env={"INTAKE_DATA_DIR": str(a_file)})
    assert_one_line_error(result)
    assert "INTAKE_DATA_DIR" in result.stderr


def test_case_decrypt_with_a_folder_as_key_says_so(tmp_path: Path) -> None:
    case_file = tmp_path / "case.json"
    case_file.write_text('{"case_ref": "C-1", "envelope": {}}')
    result = run(["case", "decrypt", "--key", str(tmp_path), str(case_file)])
    assert_one_line_error(result)
    assert "is a directory" in result.stderr
