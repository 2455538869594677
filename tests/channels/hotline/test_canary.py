"""The canary test for hotline calls: transcript and call values reach no file, table or log.

Transcripts full of unique strings (accepted rows, rejected rows, a broken
JSON line) are imported by the real command at debug log level, and a live
call goes through the operator API; then the command's stdout and stderr, the
server's log output, every file of the data folder and SQLite database (with
its -wal and -shm) and every row of every table are searched: zero hits.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, MetaData, select
from testkit.cases import open_case, report
from testkit.keys import Keyring

from intake.db import is_sqlite, make_engine
from intake.logs import configure_logging
from intake.models import Case
from intake.settings import Settings

from .conftest import sign_in
from .importing import ALL_COLUMNS, csv_text, jsonl_text, kept_logging, run_import, write


def _canary(field: str) -> str:
    return f"HLCANARY{secrets.token_hex(8)}{field}"


def _number() -> str:
    return "+2547" + "".join(secrets.choice("0123456789") for _ in range(9))


def _csv_rows() -> list[dict[str, str]]:
    good = {
        "call_id": "CAN-1",
        "reporter_type": "named",
        "country": "KE",
        "category": "sexual_abuse",
        "affiliation": "UNICEF",
        "narrative": _canary("narrative") + " alisema anataka pesa " + _canary("swahili"),
        "location": _canary("location"),
        "reporter_name": _canary("reportername"),
        "reporter_contact": _canary("contact"),
        "caller_number": _number(),
        "started_at": "2026-11-22T10:00:00Z",
        "duration_s": "300",
    }
    third = {
        **good,
        "call_id": "CAN-2",
        "reporter_type": "third_party",
        "reporter_name": "",
        "reporter_contact": "",
        "narrative": _canary("witnessed"),
        "victim_name": _canary("victimname"),
        "victim_age": "14",
        "caller_number": _number(),
    }
    rejected = {
        **good,
        "call_id": "CAN-3",
        "country": "XX",
        "narrative": _canary("rejectednarrative"),
        "victim_age": _canary("badage"),
        "incident_date": _canary("baddate"),
        "caller_number": _number(),
        "reporter_name": _canary("rejectedname"),
    }
    return [good, third, rejected]


def _jsonl_rows() -> list[dict[str, Any] | str]:
    accepted = report(narrative=_canary("jsonnarrative"), location=_canary("jsonlocation"))
    accepted.update(call_id="CAN-J1", call={"caller_number": _number(), "duration_s": 30})
    rejected = report(narrative=_canary("jsonrejected"), victim={"age": _canary("jsonage")})
    rejected.update(call_id="CAN-J2", call={"caller_number": _number(), "started_at": "then"})
    broken = '{"call_id": "CAN-J3", "narrative": "' + _canary("brokenjson")
    return [accepted, rejected, broken]


def _sealed(rows: list[dict[str, Any] | str]) -> list[str]:
    """Every string value of the rows but the call ids and codes (which may be shown)."""
    found: list[str] = []
    for row in rows:
        if isinstance(row, str):
            found.append(row[row.index("HLCANARY") :])
            continue
        for value in row.values():
            if isinstance(value, dict):
                found += _sealed([value])
            elif isinstance(value, str) and ("HLCANARY" in value or value.startswith("+2547")):
                found.append(value)
    return found


def _dump_tables(engine: Engine) -> bytes:
    metadata = MetaData()
    metadata.reflect(engine)
    cells: list[bytes] = []
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            for row in connection.execute(select(table)):
                for cell in row:
                    cells.append(cell if isinstance(cell, bytes) else str(cell).encode("utf-8"))
    return b"\n".join(cells)


def _files(places: list[Path]) -> dict[str, bytes]:
    paths = [path for place in places for path in (place, *sorted(place.rglob("*")))]
    return {str(path): path.read_bytes() for path in paths if path.is_file()}


def _hits(needles: list[str], haystacks: dict[str, bytes]) -> list[tuple[str, str]]:
    return [
        (needle, where)
        for needle in needles
        for where, data in haystacks.items()
        if needle.encode("utf-8") in data
    ]


def test_call_values_reach_no_file_table_output_or_log(
    app: FastAPI,
    client: TestClient,
    accounts: dict[str, str],
    settings: Settings,
    keyring: Keyring,
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
) -> None:
    inputs = tmp_path / "transcripts"  # the only place the canaries may be
    inputs.mkdir()
    csv_rows, jsonl_rows = _csv_rows(), _jsonl_rows()
    needles = _sealed([*csv_rows, *jsonl_rows])
    outputs: dict[str, bytes] = {}
    for name, text in (
        ("calls.csv", csv_text(csv_rows, ALL_COLUMNS)),
        ("calls.jsonl", jsonl_text(jsonl_rows)),
    ):
        result = run_import(
            settings,
            str(write(inputs / name, text)),
            "--receipts-out",
            str(tmp_path / f"receipts-{name}"),
            log_level="debug",
        )
        assert result.returncode == 1, result.stderr  # each file has rejected rows
        assert '"msg": "hotline import finished"' in result.stderr  # logs are in the output
        outputs[f"{name} stdout"] = result.stdout.encode("utf-8")
        outputs[f"{name} stderr"] = result.stderr.encode("utf-8")

    caller, narrative = _number(), _canary("livenarrative")
    needles += [caller, narrative]
    body = {**report(narrative=narrative), "call": {"caller_number": caller, "duration_s": 12}}
    capfd.readouterr()
    with kept_logging():
        configure_logging("debug")
        response = client.post(
            "/api/v1/hotline/reports", json=body, headers=sign_in(client, "op-amina")
        )
        assert response.status_code == 201, response.text
        captured = capfd.readouterr()
    outputs["server log"] = (captured.out + captured.err).encode("utf-8")
    assert b"hotline" in outputs["server log"]  # the log was captured, and it said something

    # The canaries did go in: the recipient finds them in the envelopes.
    with app.state.context.sessions() as session:
        cases = list(session.scalars(select(Case).order_by(Case.id)))
    opened = json.dumps([open_case(case, keyring.pairs["ke-unicef"]) for case in cases])
    assert len(cases) == 4
    assert caller in opened
    assert csv_rows[0]["caller_number"] in opened

    engine = make_engine(settings.resolved_database_url)
    try:
        outputs["every table"] = _dump_tables(engine)
    finally:
        engine.dispose()
    files = _files([tmp_path / "db", settings.data_dir, *tmp_path.glob("receipts-*")])
    assert len([name for name in files if "receipts-" in name]) == 2
    if is_sqlite(settings.resolved_database_url):
        assert any(name.endswith("intake.db") for name in files)
    in_inputs = {needle for needle, _where in _hits(needles, _files([inputs]))}
    assert in_inputs == set(needles) - {caller, narrative}  # the search does find them
    assert _hits(needles, {**outputs, **files}) == []
