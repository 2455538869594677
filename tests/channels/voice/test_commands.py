"""`intake routing check` for voice languages and `intake voice prompts` for the studio."""

from __future__ import annotations

from pathlib import Path

import pytest
from testkit.keys import Keyring, routing_table_toml

from channels.voice.prompts import Prompt
from intake.cli import main


def _table(tmp_path: Path, keyring: Keyring, languages: str) -> Path:
    path = tmp_path / "routing.toml"
    voice = f'\n[[numbers]]\nnumber = "+254700000077"\ncountry = "KE"\nlanguages = {languages}\n'
    path.write_text(routing_table_toml(keyring) + voice + "voice = true\n", encoding="utf-8")
    return path


def test_a_voice_language_twilio_says_is_valid(
    tmp_path: Path, keyring: Keyring, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["routing", "check", str(_table(tmp_path, keyring, '["en", "fr", "ar"]'))]) == 0
    assert "valid" in capsys.readouterr().out


def test_a_voice_language_with_neither_voice_nor_recordings_fails(
    tmp_path: Path, keyring: Keyring, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _table(tmp_path, keyring, '["en", "sw"]')
    with pytest.raises(SystemExit) as stopped:
        main(["routing", "check", str(path)])
    assert stopped.value.code == 1
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "numbers[2]" in line  # positions count from 0, as every problem line
    assert "'sw'" in line
    assert "+254700000077" not in line  # numbers are never quoted back


def test_recorded_prompts_make_the_language_valid(
    tmp_path: Path,
    keyring: Keyring,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    studio = tmp_path / "studio"
    assert main(["voice", "prompts", "--lang", "sw", "--out", str(studio)]) == 0
    lines = (studio / "prompts.tsv").read_text("utf-8").splitlines()
    assert lines[0] == "file\ttext"
    files = dict(line.split("\t", 1) for line in lines[1:])
    assert set(files) == {f"{prompt.value}.mp3" for prompt in Prompt}
    assert files["language_option.mp3"] == "Kwa Kiswahili, bonyeza"
    assert files["digit_7.mp3"] == "saba"
    prompts = tmp_path / "prompts"
    (prompts / "sw").mkdir(parents=True)
    for name in list(files)[:-1]:
        (prompts / "sw" / name).write_bytes(b"ID3")
    monkeypatch.setenv("INTAKE_VOICE_PROMPTS_DIR", str(prompts))
    path = _table(tmp_path, keyring, '["sw"]')
    with pytest.raises(SystemExit):
        main(["routing", "check", str(path)])  # one file still missing
    (prompts / "sw" / list(files)[-1]).write_bytes(b"ID3")
    capsys.readouterr()
    assert main(["routing", "check", str(path)]) == 0


def test_the_prompts_command_refuses_a_bad_language(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["voice", "prompts", "--lang", "../x", "--out", str(tmp_path)]) != 0
    assert capsys.readouterr().err.count("\n") == 1
