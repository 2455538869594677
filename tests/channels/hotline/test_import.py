"""`intake hotline import`: good, bad and repeated rows; idempotent re-runs; receipts out.

The first test runs the installed command in a subprocess, as a user does; the
others call the same entry point in this process (the same code, minus the
seconds a fresh interpreter takes to import the application).
"""

from __future__ import annotations

import re
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from testkit.cases import open_case
from testkit.keys import Keyring

from channels.hotline import importer
from channels.hotline.models import HotlineCall
from channels.hotline.transcripts import read_transcripts
from channels.registry import installed
from intake.app import create_app
from intake.db import make_engine, make_sessionmaker
from intake.models import Case
from intake.settings import Settings

from .importing import ALL_COLUMNS, Result, csv_text, import_here, jsonl_text, run_import, write

Run = Callable[..., Result]

SUMMARY = re.compile(r"^imported (\d+), skipped (\d+), rejected (\d+)$", re.MULTILINE)


@pytest.fixture
def run(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Run:
    def run_here(*args: str) -> Result:
        return import_here(settings, monkeypatch, capsys, *args)

    return run_here


def _good(call_id: str, **cells: str) -> dict[str, str]:
    row = {
        "call_id": call_id,
        "reporter_type": "anonymous",
        "language": "sw",
        "country": "KE",
        "category": "sexual_abuse",
        "affiliation": "UNICEF",
        "victim_is_child": "false",
        "narrative": f"Account of call {call_id}: a worker demanded sex for a ration card.",
    }
    row.update(cells)
    return row


def _cases(settings: Settings) -> list[Case]:
    engine = make_engine(settings.resolved_database_url)
    try:
        with make_sessionmaker(engine)() as session:
            cases = list(session.scalars(select(Case).order_by(Case.id)))
            for case in cases:
                _ = case.recipients
            return cases
    finally:
        engine.dispose()


def _calls(settings: Settings) -> int:
    engine = make_engine(settings.resolved_database_url)
    try:
        with make_sessionmaker(engine)() as session:
            return int(session.scalar(select(func.count()).select_from(HotlineCall)) or 0)
    finally:
        engine.dispose()


def _summary(stderr: str) -> tuple[int, int, int]:
    match = SUMMARY.search(stderr)
    assert match, stderr
    return int(match.group(1)), int(match.group(2)), int(match.group(3))


CSV_ROWS = [
    _good("KE-0001"),
    _good(
        "KE-0002",
        reporter_type="named",
        reporter_name="Baraka Otieno",
        reporter_contact="via the camp chairman",
        contact_me="yes",
        caller_number="+254733444555",
    ),
    _good("KE-0003", country="ke", narrative="Secret account of the third call"),
    _good("KE-0001", narrative="the same call, transcribed twice"),
    _good("", narrative="a call without its id"),
    _good(
        "KE-0006",
        reporter_type="third_party",
        victim_is_child="true",
        victim_name="Neema",
        victim_age="12",
        victim_sex="female",
        incident_date="2026-10-30",
        location="Block 4, Kakuma",
        started_at="2026-11-20T08:15:00+03:00",
        duration_s="610",
        share_with_investigators="1",
    ),
    _good("KE-0007", victim_age="twelve", duration_s="-5", narrative="Secret seventh account"),
]


def test_a_csv_file_with_good_bad_and_repeated_rows(
    settings: Settings, loaded_routing: str, keyring: Keyring, tmp_path: Path
) -> None:
    path = write(tmp_path / "calls.csv", csv_text(CSV_ROWS, ALL_COLUMNS))
    result = run_import(settings, str(path))
    assert result.returncode == 1, result.stderr
    assert result.stdout.splitlines() == [
        'row 3 (call_id "KE-0003"): rejected: country: country_unknown',
        "row 5: rejected: call_id: missing",
        'row 7 (call_id "KE-0007"): rejected: victim_age: int_type; duration_s: greater_than_equal',
    ]
    assert result.stderr.splitlines()[-1] == "imported 3, skipped 1, rejected 3"
    assert "Traceback" not in result.stderr
    for sealed in ("Secret", "Baraka", "camp chairman", "733444555", "Neema", "Kakuma", "twelve"):
        assert sealed not in result.stdout + result.stderr

    cases = _cases(settings)
    assert [case.channel for case in cases] == ["hotline"] * 3
    named, child = cases[1], cases[2]
    content = open_case(named, keyring.pairs["ke-unicef"])
    assert content["reporter"] == {"name": "Baraka Otieno", "contact": "via the camp chairman"}
    assert content["caller_number"] == "+254733444555"
    assert named.consent_contact_me is True
    assert child.victim_is_child is True
    assert child.consent_share_with_investigators is True
    child_content = open_case(child, keyring.pairs["ke-unicef"])
    assert child_content["call"] == {"started_at": "2026-11-20T05:15:00Z", "duration_s": 610}
    victim = child_content["victim"]
    assert victim == {"name": "Neema", "age": 12, "sex": "female"}
    assert _calls(settings) == 3


def test_running_the_same_file_again_imports_nothing_new(
    settings: Settings, loaded_routing: str, tmp_path: Path, run: Run
) -> None:
    path = write(tmp_path / "calls.csv", csv_text(CSV_ROWS, ALL_COLUMNS))
    first = run(str(path))
    assert _summary(first.stderr) == (3, 1, 3)
    again = run(str(path))
    assert again.returncode == 1
    assert _summary(again.stderr) == (0, 4, 3)
    assert again.stdout == first.stdout  # the same rows are still bad
    assert len(_cases(settings)) == 3


JSONL_ROWS: list[dict[str, Any] | str] = [
    {
        "call_id": "SO-77",
        "reporter_type": "anonymous",
        "country": "SO",
        "category": "sexual_exploitation",
        "narrative": "Jsonl secret account: the guard asked for sex to let her pass.",
        "call": {"started_at": "2026-11-21T10:00:00Z", "duration_s": 300, "caller_number": "+2526"},
    },
    "",
    "{not json at all, Jsonl secret",
    '["a", "list"]',
    {"call_id": "SO-77", "reporter_type": "anonymous", "country": "SO", "category": "other",
     "narrative": "Jsonl secret repeat"},
    {"call_id": 78, "reporter_type": "anonymous", "country": "SO", "category": "other",
     "narrative": "Jsonl secret numeric id"},
    {"call_id": "SO-79", "reporter_type": "anonymous", "country": "SO", "category": "other",
     "narrative": "Jsonl secret line\u2028separator", "reporter": {"name": "Jsonl secret name"}},
    {"call_id": "SO-80", "reporter_type": "third_party", "country": "SO", "category": "other",
     "narrative": "Jsonl secret, fine", "victim": {"age": 9}, "victim_is_child": True},
]  # fmt: skip


def test_a_json_lines_file_numbers_rows_by_line(
    settings: Settings, loaded_routing: str, keyring: Keyring, tmp_path: Path, run: Run
) -> None:
    path = write(tmp_path / "calls.jsonl", jsonl_text(JSONL_ROWS))
    result = run(str(path))
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "row 3: rejected: json_invalid",
        "row 4: rejected: not_an_object",
        "row 6: rejected: call_id: call_id_invalid",
        'row 7 (call_id "SO-79"): rejected: reporter_not_anonymous',
    ]
    assert _summary(result.stderr) == (2, 1, 4)
    assert "Jsonl secret" not in result.stdout + result.stderr
    first, second = _cases(settings)
    assert first.recipient_ids == ["so-unhcr"]
    assert open_case(first, keyring.pairs["so-unhcr"])["caller_number"] == "+2526"
    assert open_case(second, keyring.pairs["so-unhcr"])["victim"]["age"] == 9


def test_a_clean_file_exits_0_and_the_format_is_sniffed_without_an_extension(
    settings: Settings, loaded_routing: str, tmp_path: Path, run: Run
) -> None:
    jsonl = write(tmp_path / "calls-jsonl", jsonl_text([JSONL_ROWS[0]]))
    result = run(str(jsonl))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""
    assert _summary(result.stderr) == (1, 0, 0)
    table = write(tmp_path / "calls-table.txt", csv_text([_good("KE-1")]))
    assert run(str(table)).returncode == 0
    assert len(_cases(settings)) == 2


def test_receipts_go_only_to_a_new_private_file(
    settings: Settings, loaded_routing: str, tmp_path: Path, run: Run
) -> None:
    path = write(tmp_path / "calls.csv", csv_text([_good("A-1"), _good("A-2"), _good("A-1")]))
    out = tmp_path / "receipts.csv"
    result = run(str(path), "--receipts-out", str(out))
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "call_id,case_ref,receipt"
    rows = [line.split(",") for line in lines[1:]]
    assert [row[0] for row in rows] == ["A-1", "A-2"]
    assert [row[1] for row in rows] == [case.case_ref for case in _cases(settings)]
    receipts = [row[2] for row in rows]
    assert all(re.fullmatch(r"\d{4} \d{4} \d{4} \d{4}", receipt) for receipt in receipts)
    for receipt in receipts:
        assert receipt not in result.stdout + result.stderr
        assert receipt.replace(" ", "") not in result.stdout + result.stderr

    # The receipt works at follow-up (the server derives at the same, default cost).
    with TestClient(
        create_app(settings, channels=installed()), base_url="https://intake.example.org"
    ) as client:
        answer = client.post("/api/v1/followup", json={"receipt": receipts[1]})
    assert answer.status_code == 200, answer.text
    assert answer.json()["case_ref"] == rows[1][1]

    again = run(str(path), "--receipts-out", str(out))
    assert again.returncode == 1
    assert again.stderr.strip().splitlines() == [
        f"intake: receipts file {out} already exists; nothing imported"
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("call_id,narrative,Secret words here\nX,y,z\n", "unknown columns (positions 3)"),
        ("narrative,country\nSecret,KE\n", "no call_id column"),
        ("call_id,country,country\nX,KE,KE\n", "names a column twice"),
        ("", "the CSV file is empty"),
        ('call_id,narrative\nX,"Secret unterminated\n', "malformed"),
    ],
)
def test_a_file_that_cannot_be_read_imports_nothing(
    settings: Settings, loaded_routing: str, tmp_path: Path, run: Run, text: str, expected: str
) -> None:
    result = run(str(write(tmp_path / "calls.csv", text)))
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert expected in result.stderr
    assert "Secret" not in result.stderr + result.stdout
    assert _cases(settings) == []


def test_missing_file_and_missing_routing_table_are_one_line_errors(
    settings: Settings, tmp_path: Path, run: Run
) -> None:
    missing = run(str(tmp_path / "nope.csv"))
    assert missing.returncode == 1
    assert missing.stderr.strip().splitlines() == [
        f"intake: transcript file {tmp_path / 'nope.csv'} does not exist"
    ]
    path = write(tmp_path / "calls.csv", csv_text([_good("B-1")]))
    unrouted = run(str(path))
    assert unrouted.returncode == 1
    assert len(unrouted.stderr.strip().splitlines()) == 1
    assert "no routing table" in unrouted.stderr


def test_a_call_id_stored_meanwhile_rolls_the_whole_case_back(
    app: FastAPI, client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two imports racing on one call id: the loser's case and call id go together."""
    context = app.state.context
    rows = read_transcripts(write(tmp_path / "calls.csv", csv_text([_good("RACE-1")] * 2)))
    assert isinstance(importer.import_row(context, rows[0]), importer.Imported)
    # The second import checked before the first committed: it does not see the call id.
    monkeypatch.setattr(importer, "is_recorded", _unseen_once())
    assert isinstance(importer.import_row(context, rows[1]), importer.Skipped)
    with context.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 1
        assert session.scalar(select(func.count()).select_from(HotlineCall)) == 1


def _unseen_once() -> Callable[..., bool]:
    calls: list[bool] = []
    real = importer.is_recorded

    def is_recorded(context: Any, digest: bytes) -> bool:
        calls.append(True)
        return False if len(calls) == 1 else real(context, digest)

    return is_recorded
