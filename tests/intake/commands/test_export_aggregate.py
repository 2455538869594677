"""`intake export aggregate --out FILE [--year Y] [--country CC]`, run in-process."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import pytest
from testkit.cases import stored_case

from intake.cli import main
from intake.db import make_engine, make_sessionmaker, transaction
from intake.settings import Settings

AT = datetime(2026, 2, 3, 10, 0, tzinfo=UTC)


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> Settings:
    monkeypatch.setenv("INTAKE_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("INTAKE_DATABASE_URL", settings.resolved_database_url)
    engine = make_engine(settings.resolved_database_url)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            for _ in range(5):
                stored_case(session, received_at=AT)
            stored_case(session, received_at=AT, country="SO", recipients=("so-unhcr",))
    finally:
        engine.dispose()
    return settings


def test_writes_csv_and_xlsx_by_the_extension(
    cli_env: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "aggregate.csv"
    assert main(["export", "aggregate", "--out", str(out)]) == 0
    assert "2 rows" in capsys.readouterr().out
    with out.open(newline="", encoding="utf-8") as file:
        rows = list(csv.reader(file))
    assert rows[1:] == [
        ["2026", "KE", "UNICEF", "sexual_abuse", "false", "routed", "", "5"],
        ["2026", "SO", "UNICEF", "sexual_abuse", "false", "routed", "", "<5"],
    ]
    book = tmp_path / "aggregate.xlsx"
    assert main(["export", "aggregate", "--out", str(book), "--country", "SO"]) == 0
    workbook = openpyxl.load_workbook(book, read_only=True)
    try:
        sheet = workbook.active
        assert sheet is not None
        values = list(sheet.iter_rows(values_only=True))
    finally:
        workbook.close()  # read-only workbooks keep the file open until closed
    assert values[1] == (2026, "SO", "UNICEF", "sexual_abuse", False, "routed", None, "<5")
    assert len(values) == 2
    empty = tmp_path / "2025.csv"
    assert main(["export", "aggregate", "--out", str(empty), "--year", "2025"]) == 0
    assert empty.read_text().splitlines() == [
        "year,country,affiliation,category,victim_is_child,status,outcome,count"
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--out", "figures.pdf"], "--out must end in .csv or .xlsx"),
        (["--out", "x.csv", "--year", "26"], "year must be"),
        (["--out", "x.csv", "--country", "ke"], "--country must be"),
        (["--out", "no/such/folder/x.csv"], "does not exist"),
    ],
)
def test_bad_arguments_are_one_line_errors(
    cli_env: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["export", "aggregate", *args]) == 1
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert message in lines[0]
    assert "Traceback" not in captured.err
