"""The canary test: sealed values, receipts and addresses reach no file, table or log.

Reports full of unique strings go in through the JSON API (accepted and
rejected), the reporter follows up with the receipt and reads a focal point's
message; then every file under the test's folders (data dir, SQLite database,
its -wal and -shm), every row of every table and the captured logs are
searched: zero hits.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Engine, MetaData, select
from testkit.cases import add_sealed_message, report
from testkit.keys import Keyring

from intake.context import AppContext
from intake.logs import configure_logging
from intake.models import utcnow
from intake.settings import Settings

CLIENT_HOST = "testclient"  # Starlette's TestClient peer address
_LIBRARY_LOGGERS = (
    "uvicorn",
    "uvicorn.error",
    "uvicorn.access",
    "sqlalchemy",
    "sqlalchemy.engine",
    "alembic",
    "twilio",
)


class CapturedLogs:
    def __init__(self, capfd: pytest.CaptureFixture[str]) -> None:
        self._capfd = capfd
        self._text = ""

    def start(self) -> None:
        """Production logging at debug level; called in the test body, where
        pytest's capture stream stays open (a fixture's would be closed)."""
        configure_logging("debug")

    def text(self) -> str:
        captured = self._capfd.readouterr()
        self._text += captured.out + captured.err
        return self._text


@pytest.fixture
def logs(capfd: pytest.CaptureFixture[str]) -> Iterator[CapturedLogs]:
    """Captured production logging; the logging set-up is restored afterwards."""
    root = logging.getLogger()
    saved_root = (list(root.handlers), root.level)
    saved = {
        name: (list(lg.handlers), lg.propagate, lg.disabled, lg.level)
        for name, lg in ((name, logging.getLogger(name)) for name in _LIBRARY_LOGGERS)
    }
    try:
        yield CapturedLogs(capfd)
    finally:
        root.handlers[:] = saved_root[0]
        root.setLevel(saved_root[1])
        for name, (handlers, propagate, disabled, level) in saved.items():
            library = logging.getLogger(name)
            library.handlers[:] = handlers
            library.propagate, library.disabled = propagate, disabled
            library.setLevel(level)


def _canary(field: str) -> str:
    return f"CANARY{secrets.token_hex(8)}{field}"


def _canary_date() -> str:
    """A unique past date (as sealed `incident_date`); nothing else stores one so old."""
    return (date(1950, 1, 1) + timedelta(days=secrets.randbelow(365 * 40))).isoformat()


def _reports() -> list[dict[str, Any]]:
    return [
        report(
            reporter_type="named",
            narrative=_canary("narrative") + " قال إنه يريد مالا " + _canary("arabic"),
            location=_canary("location"),
            incident_date=_canary_date(),
            reporter={"name": _canary("reportername"), "contact": _canary("contact")},
        ),
        report(
            reporter_type="third_party",
            narrative=_canary("witnessed"),
            location=_canary("place"),
            incident_date=_canary_date(),
            victim={"name": _canary("victimname"), "age": 15, "sex": "female"},
            victim_is_child=True,
        ),
        report(narrative=_canary("anonymous"), location=_canary("camp")),
    ]


def _sealed_values(body: dict[str, Any]) -> list[str]:
    values = [body["narrative"], body.get("location"), body.get("incident_date")]
    for part in ("reporter", "victim"):
        values += [value for value in (body.get(part) or {}).values() if isinstance(value, str)]
    return [value for value in values if isinstance(value, str) and value not in ("female",)]


def _receipt_forms(receipt: str) -> list[str]:
    digits = receipt.replace(" ", "")
    return [digits, receipt, receipt.replace(" ", "-")]


def _file_bytes(folders: list[Path]) -> dict[Path, bytes]:
    return {
        path: path.read_bytes()
        for folder in folders
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def _cell_text(value: object) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else str(value)


def _dump_tables(engine: Engine) -> str:
    """Every row of every table, as text (binary columns byte for byte)."""
    metadata = MetaData()
    metadata.reflect(engine)
    lines: list[str] = []
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            for row in connection.execute(select(table)):
                lines.append(f"{table.name}: " + " | ".join(_cell_text(cell) for cell in row))
    return "\n".join(lines)


def _add_message(context: AppContext, keyring: Keyring, case_ref: str, text: str) -> None:
    add_sealed_message(context, keyring.pairs["ke-unicef"], case_ref, text, utcnow())


def _hits(needles: list[str], haystacks: dict[str, bytes]) -> list[tuple[str, str, bytes]]:
    """Each (needle, where, what surrounds it) found; empty when nothing leaked."""
    found = []
    for needle in needles:
        encoded = needle.encode("utf-8")
        for where, data in haystacks.items():
            at = data.find(encoded)
            if at >= 0:
                found.append((needle, where, data[max(0, at - 160) : at + 80]))
    return found


def _exercise(client: TestClient, keyring: Keyring) -> tuple[list[str], list[str], list[Response]]:
    """Send everything; returns (secrets to look for, case refs, every response)."""
    headers = {"X-Forwarded-For": "203.0.113.199", "User-Agent": _canary("useragent")}
    needles = ["203.0.113.199", headers["User-Agent"], CLIENT_HOST]
    responses: list[Response] = []
    refs: list[str] = []
    context: AppContext = client.app.state.context  # type: ignore[attr-defined]
    for body in _reports():
        response = client.post("/api/v1/reports", json=body, headers=headers)
        assert response.status_code == 201, response.text
        answer = response.json()
        refs.append(answer["case_ref"])
        message = _canary("message")
        _add_message(context, keyring, answer["case_ref"], message)
        for typed in _receipt_forms(answer["receipt"]):
            followup = client.post("/api/v1/followup", json={"receipt": typed}, headers=headers)
            assert followup.json()["messages"][0]["text"] == message
            responses.append(followup)
        needles += _sealed_values(body) + _receipt_forms(answer["receipt"]) + [message]
        responses.append(response)
    rejected = report(country="XX", narrative=_canary("rejected"), location=_canary("rejloc"))
    responses.append(client.post("/api/v1/reports", json=rejected, headers=headers))
    guess = f"{secrets.randbelow(10**16):016d}"
    responses.append(client.post("/api/v1/followup", json={"receipt": guess}, headers=headers))
    needles += _sealed_values(rejected) + _receipt_forms(" ".join([guess[:8], guess[8:]]))
    assert [r.status_code for r in responses[-2:]] == [422, 404]
    return needles, refs, responses


def test_no_canary_reaches_a_file_a_table_or_a_log(
    app: FastAPI, settings: Settings, keyring: Keyring, logs: CapturedLogs, tmp_path: Path
) -> None:
    logs.start()
    with TestClient(app, base_url="https://intake.example.org") as client:
        needles, refs, responses = _exercise(client, keyring)
        engine: Engine = client.app.state.context.engine  # type: ignore[attr-defined]
        tables = _dump_tables(engine)
        live_files = _file_bytes([tmp_path])
    closed_files = _file_bytes([tmp_path])
    for response in responses:
        assert "set-cookie" not in response.headers
    assert all(ref in tables for ref in refs)  # the dump reads the right database
    assert "report accepted" in logs.text()  # the capture sees our logs
    if settings.resolved_database_url.startswith("sqlite"):
        names = {path.name for path in live_files}
        assert {"intake.db", "intake.db-wal", "intake.db-shm"} <= names
    haystacks = {f"live:{path}": data for path, data in live_files.items()}
    haystacks |= {f"closed:{path}": data for path, data in closed_files.items()}
    haystacks |= {"tables": tables.encode("utf-8"), "logs": logs.text().encode("utf-8")}
    assert len(needles) > 30
    assert _hits(needles, haystacks) == []
