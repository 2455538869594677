"""`intake routing show`, run in-process against the test database (SPEC 13)."""

from __future__ import annotations

import pytest

from crypto.envelope import b64e
from intake.cli import main
from intake.db import make_engine, make_sessionmaker, transaction
from intake.routing_tables.demo import ensure_demo_table
from intake.routing_tables.store import store_table
from intake.settings import Settings
from routing.demo import DEMO_FOCAL_POINT_IDS
from routing.table import load_table_text


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> Settings:
    monkeypatch.setenv("INTAKE_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("INTAKE_DATABASE_URL", settings.resolved_database_url)
    return settings


def store(settings: Settings, text: str) -> None:
    engine = make_engine(settings.resolved_database_url)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            store_table(session, text, loaded_by="tests")
    finally:
        engine.dispose()


def show(capsys: pytest.CaptureFixture[str]) -> list[str]:
    assert main(["routing", "show"]) == 0
    return capsys.readouterr().out.splitlines()


def test_show_prints_the_demo_tables_focal_points_numbers_and_rules_without_keys(
    cli_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["db", "upgrade"])
    text = ensure_demo_table(cli_env.data_dir)
    table = load_table_text(text)
    store(cli_env, text)
    capsys.readouterr()
    lines = show(capsys)
    printed = "\n".join(lines)
    assert lines[0].startswith(f"routing table {table.version!r} (load #")
    for ident in DEMO_FOCAL_POINT_IDS:
        assert any(line.split()[:1] == [ident] for line in lines), ident
    assert "  ke-unicef  KE  UNICEF  " in printed
    assert "alerts: mailto:ke-unicef@example.org" in printed
    assert "  +254700000001  KE  languages: sw, en  channels: SMS, WhatsApp\n" in printed + "\n"
    for rule in table.rules:
        (line,) = [line for line in lines if line.split()[:1] == [rule.id]]
        assert f"country: {rule.country}" in line
        assert f"to: {', '.join(rule.to)}" in line
        assert line.endswith(f"deadline: {rule.deadline_hours} h")
    sea = next(line for line in lines if line.split()[:1] == ["ke-sea-unicef"])
    assert "category: sexual_exploitation,sexual_abuse" in sea
    assert "cc: ke-coordinator" in sea
    keys = [b64e(key) for point in table.focal_points for key in point.public_keys]
    keys += [b64e(key) for key in table.escrow.public_keys] if table.escrow else []
    assert keys
    assert not any(key[:12] in printed for key in keys)  # no keys, not even a prefix


def test_show_names_the_voice_channel_of_a_number_that_takes_calls(
    cli_env: Settings, routing_toml: str, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["db", "upgrade"])
    voiced = routing_toml.replace(
        'number = "+252610000001"\ncountry = "SO"\nlanguages = ["so"]\n',
        'number = "+252610000001"\ncountry = "SO"\nlanguages = ["so"]\nvoice = true\n',
    )
    assert voiced != routing_toml
    store(cli_env, routing_toml)
    store(cli_env, voiced)  # the newest load is the active table
    capsys.readouterr()
    lines = show(capsys)
    assert "(load #2, by tests)" in lines[0]
    assert "  +254700000001  KE  languages: sw, en  channels: SMS, WhatsApp" in lines
    assert "  +252610000001  SO  languages: so  channels: SMS, WhatsApp, voice" in lines


def test_show_without_a_table_says_how_to_load_one(
    cli_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["db", "upgrade"])
    capsys.readouterr()
    assert main(["routing", "show"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip() == (
        "intake: no routing table is loaded; run `intake serve` (demo table) "
        "or `intake routing load FILE`"
    )


def test_show_prints_the_retention_periods_when_the_table_has_them(
    cli_env: Settings, routing_toml: str, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["db", "upgrade"])
    store(cli_env, routing_toml)
    capsys.readouterr()
    assert not any(line.startswith("retention") for line in show(capsys))
    store(cli_env, routing_toml + '\n[retention]\nclosed_days = {"*" = 1825, other = 0}\n')
    capsys.readouterr()
    assert show(capsys)[-1] == "retention after closing: *: 1825 d, other: 0 d"
