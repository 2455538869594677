"""The aggregate export: its rows (hand-counted, both databases), its CSV and XLSX read back
by real readers (the csv module, openpyxl), and who may download which."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import openpyxl
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from testkit.cases import report

from intake.coordination import aggregate_files
from intake.coordination.aggregate import COLUMNS, AggregateRow, aggregate_rows
from intake.db import transaction

from .conftest import Headers, Store

IN_2025 = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)
IN_2026 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def ten(store: Store) -> None:
    for _ in range(6):
        store(received_at=IN_2026)
    for _ in range(2):
        store(received_at=IN_2026, victim_is_child=True, status="closed", outcome="substantiated")
    store(
        received_at=IN_2025,
        affiliation="WFP",
        category="other",
        victim_is_child=None,
        status="closed",
        outcome="withdrawn",
    )
    store(received_at=IN_2026, country="SO", affiliation="UNHCR", recipients=("so-unhcr",))


EXPECTED = [
    (2025, "KE", "WFP", "other", None, "closed", "withdrawn", "<5"),
    (2026, "KE", "UNICEF", "sexual_abuse", True, "closed", "substantiated", "<5"),
    (2026, "KE", "UNICEF", "sexual_abuse", False, "routed", None, 6),
    (2026, "SO", "UNHCR", "sexual_abuse", False, "routed", None, "<5"),
]


def _rows(app: FastAPI, year: int | None, country: str | None, small: int = 4) -> list[tuple]:  # type: ignore[type-arg]
    with transaction(app.state.context.sessions) as session:
        return [row.values() for row in aggregate_rows(session, year, country, small=small)]


def test_rows_are_the_combinations_present_counted_and_suppressed(app: FastAPI, ten: None) -> None:
    assert _rows(app, None, None) == EXPECTED
    assert _rows(app, 2026, None) == EXPECTED[1:]
    assert _rows(app, None, "KE") == EXPECTED[:3]
    assert _rows(app, 2024, None) == []
    # a lower threshold prints more rows
    assert [row[-1] for row in _rows(app, None, None, small=1)] == ["<2", 2, 6, "<2"]


def test_the_outcome_is_the_one_the_lifecycle_recorded(
    app: FastAPI, client: TestClient, staff: Headers
) -> None:
    filed = client.post("/api/v1/reports", json=report()).json()["case_ref"]
    closed = client.post(
        f"/api/v1/cases/{filed}/events",
        json={"type": "closed", "outcome": "referred_elsewhere"},
        headers=staff["unicef"],
    )
    assert closed.status_code == 201, closed.text
    [row] = _rows(app, None, None)
    assert row[5:] == ("closed", "referred_elsewhere", "<5")


def test_the_csv_reads_back_with_the_csv_module(
    client: TestClient, staff: Headers, ten: None
) -> None:
    response = client.get("/api/v1/exports/aggregate?format=csv", headers=staff["admin"])
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    assert response.headers["cache-control"] == "no-store"
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8"))))
    assert tuple(rows[0]) == COLUMNS
    assert rows[1:] == [
        ["2025", "KE", "WFP", "other", "", "closed", "withdrawn", "<5"],
        ["2026", "KE", "UNICEF", "sexual_abuse", "true", "closed", "substantiated", "<5"],
        ["2026", "KE", "UNICEF", "sexual_abuse", "false", "routed", "", "6"],
        ["2026", "SO", "UNHCR", "sexual_abuse", "false", "routed", "", "<5"],
    ]


def test_the_xlsx_reads_back_with_openpyxl(client: TestClient, staff: Headers, ten: None) -> None:
    response = client.get(
        "/api/v1/exports/aggregate",
        params={"format": "xlsx", "year": "2026"},
        headers=staff["coord-ke"],
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == aggregate_files.MEDIA_TYPES["xlsx"]
    sheet = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True).active
    assert sheet is not None
    values = [tuple(cell for cell in row) for row in sheet.iter_rows(values_only=True)]
    assert values[0] == COLUMNS
    assert values[1:] == [
        (2026, "KE", "UNICEF", "sexual_abuse", True, "closed", "substantiated", "<5"),
        (2026, "KE", "UNICEF", "sexual_abuse", False, "routed", None, 6),
    ]


def test_cells_a_spreadsheet_would_run_are_neutralised() -> None:
    row = AggregateRow(2026, "KE", "=HYPERLINK(1)", "other", None, "routed", None, 7)
    text = aggregate_files.write([row], "csv").decode()
    assert "'=HYPERLINK(1)" in text
    workbook = openpyxl.load_workbook(io.BytesIO(aggregate_files.write([row], "xlsx")))
    cell = workbook.active["C2"]  # type: ignore[index]
    assert cell.value == "=HYPERLINK(1)"
    assert cell.data_type == "s"


@pytest.mark.parametrize(
    ("account", "query", "status"),
    [
        ("coord-ke", {}, 200),
        ("coord-ke", {"country": "SO"}, 403),
        ("admin", {"country": "SO"}, 200),
        ("unicef", {}, 403),
        ("operator", {}, 403),
        ("admin", {"format": "pdf"}, 422),
        ("admin", {"year": "20x6"}, 422),
        ("admin", {"country": "Kenya"}, 422),
    ],
)
def test_who_may_download_which_aggregate(
    client: TestClient, staff: Headers, account: str, query: dict[str, str], status: int
) -> None:
    response = client.get("/api/v1/exports/aggregate", params=query, headers=staff[account])
    assert response.status_code == status, response.text
    if status != 200:
        assert response.headers["content-type"].startswith("application/problem+json")


def test_a_coordinator_gets_its_own_country_only(
    client: TestClient, staff: Headers, ten: None
) -> None:
    response = client.get("/api/v1/exports/aggregate", headers=staff["coord-so"])
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert [row[1] for row in rows[1:]] == ["SO"]
    assert client.get("/api/v1/exports/aggregate").status_code == 401
