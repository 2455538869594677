"""`intake export cases` and `GET /api/v1/exports/cases`: columns, filters, roles, safe cells."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import update
from testkit.cases import report
from testkit.staff import bearer, create_accounts

from crypto.kdf import KdfCost
from intake.cli import main
from intake.coordination.case_export import COLUMNS
from intake.models import Case
from intake.settings import Settings

PASSWORD = "export test passphrase"
NARRATIVE = "CANARY-EXPORT-NARRATIVE-7f3a"
SPEC_TEXT = (  # SPEC 12, copied as it is written
    "case_ref, received_at, channel, reporter_type, language, country, category, affiliation, "
    "victim_is_child, consent_contact_me, consent_share_with_investigators, "
    "consent_refer_to_services, status, due_at, overdue, acknowledged_at, referred_to, "
    "closed_at, outcome, rule, table_version, recipients"
)
SPEC_COLUMNS = SPEC_TEXT.split(", ")
Headers = Callable[[str], dict[str, str]]


@pytest.fixture
def cases(app: FastAPI, client: TestClient, kdf_cost: KdfCost) -> dict[str, str]:
    """Two Kenyan cases (one referred then closed), one Somali; and the accounts."""
    create_accounts(
        app,
        kdf_cost,
        {
            "coord": ("coordinator", None, "KE"),
            "boss": ("admin", None, None),
            "amina": ("focal_point", "ke-unicef", None),
        },
        password=PASSWORD,
    )
    refs = {
        "ke1": client.post("/api/v1/reports", json=report(narrative=NARRATIVE)).json()["case_ref"],
        "ke2": client.post("/api/v1/reports", json=report()).json()["case_ref"],
        "so": client.post("/api/v1/reports", json=report(country="SO")).json()["case_ref"],
    }
    headers = bearer(client, "amina", PASSWORD)
    steps = (
        {"type": "acknowledged"},
        {"type": "referred", "to": "investigation"},
        {"type": "closed", "outcome": "unsubstantiated"},
    )
    for step in steps:
        answer = client.post(f"/api/v1/cases/{refs['ke1']}/events", json=step, headers=headers)
        assert answer.status_code == 201, answer.text
    return refs


@pytest.fixture
def as_(client: TestClient) -> Headers:
    return lambda username: bearer(client, username, PASSWORD)


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    monkeypatch.setenv("INTAKE_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("INTAKE_DATABASE_URL", settings.resolved_database_url)


def read_csv(text: str) -> list[dict[str, str]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader)
    assert header == SPEC_COLUMNS
    return [dict(zip(header, row, strict=True)) for row in reader]


def read_xlsx(path: Path) -> list[dict[str, object]]:
    workbook = openpyxl.load_workbook(path, read_only=True)
    sheet = workbook.active
    assert sheet is not None
    table = list(sheet.iter_rows(values_only=True))
    workbook.close()
    assert list(table[0]) == SPEC_COLUMNS
    return [dict(zip(SPEC_COLUMNS, row, strict=True)) for row in table[1:]]


def test_the_columns_are_the_specs_in_order() -> None:
    assert list(COLUMNS) == SPEC_COLUMNS


def test_the_cli_writes_csv_with_every_case_and_no_content(
    cases: dict[str, str], cli_env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "cases.csv"
    assert main(["export", "cases", "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == f"exported 3 cases to {out}"
    text = out.read_text(encoding="utf-8")
    assert NARRATIVE not in text
    rows = {row["case_ref"]: row for row in read_csv(text)}
    assert set(rows) == set(cases.values())
    closed = rows[cases["ke1"]]
    assert closed["status"] == "closed"
    assert closed["outcome"] == "unsubstantiated"
    assert closed["referred_to"] == "investigation"
    assert closed["closed_at"].endswith("Z")
    assert closed["acknowledged_at"].endswith("Z")
    assert closed["overdue"] == "false"
    assert closed["victim_is_child"] == "false"
    assert closed["recipients"] != ""
    assert rows[cases["ke2"]]["closed_at"] == rows[cases["ke2"]]["outcome"] == ""
    assert rows[cases["so"]]["country"] == "SO"


def test_the_cli_filters_by_country_and_day(
    cases: dict[str, str], cli_env: None, tmp_path: Path
) -> None:
    out = tmp_path / "ke.csv"
    assert main(["export", "cases", "--out", str(out), "--country", "KE"]) == 0
    assert {r["case_ref"] for r in read_csv(out.read_text())} == {cases["ke1"], cases["ke2"]}
    assert main(["export", "cases", "--out", str(out), "--to", "2000-01-01"]) == 0
    assert read_csv(out.read_text()) == []


def test_the_cli_writes_xlsx_read_back_by_openpyxl(
    cases: dict[str, str], cli_env: None, tmp_path: Path
) -> None:
    out = tmp_path / "cases.xlsx"
    assert main(["export", "cases", "--out", str(out), "--country", "KE"]) == 0
    rows = {row["case_ref"]: row for row in read_xlsx(out)}
    assert set(rows) == {cases["ke1"], cases["ke2"]}
    assert rows[cases["ke1"]]["outcome"] == "unsubstantiated"
    assert rows[cases["ke2"]]["overdue"] is False
    assert NARRATIVE.encode() not in out.read_bytes()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--out", "x.txt"], "--out must end in .csv or .xlsx"),
        (["--out", "x.csv", "--country", "XX"], "--country must be"),
        (["--out", "x.csv", "--from", "2026-13-01"], "--from must be a date"),
        (["--out", "x.csv", "--from", "2026-02-01", "--to", "2026-01-01"], "--from must not"),
    ],
)
def test_bad_arguments_are_one_line(
    cli_env: None, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(["export", "cases", *argv]) == 1
    error = capsys.readouterr().err
    assert len(error.strip().splitlines()) == 1
    assert message in error


def test_formula_cells_are_neutralised_in_both_formats(
    app: FastAPI, cases: dict[str, str], cli_env: None, tmp_path: Path
) -> None:
    with app.state.context.sessions() as session, session.begin():
        session.execute(
            update(Case).where(Case.case_ref == cases["ke2"]).values(affiliation="=1+2")
        )
    assert main(["export", "cases", "--out", str(tmp_path / "c.csv")]) == 0
    rows = {r["case_ref"]: r for r in read_csv((tmp_path / "c.csv").read_text())}
    assert rows[cases["ke2"]]["affiliation"] == "'=1+2"
    assert main(["export", "cases", "--out", str(tmp_path / "c.xlsx")]) == 0
    sheet = openpyxl.load_workbook(tmp_path / "c.xlsx").active
    assert sheet is not None
    column = SPEC_COLUMNS.index("affiliation") + 1
    cells = [sheet.cell(row=r, column=column) for r in range(2, sheet.max_row + 1)]
    dangerous = [cell for cell in cells if cell.value == "=1+2"]
    assert len(dangerous) == 1
    assert dangerous[0].data_type == "s"


def test_a_coordinator_exports_its_country(
    client: TestClient, cases: dict[str, str], as_: Headers
) -> None:
    answer = client.get("/api/v1/exports/cases", headers=as_("coord"))
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert answer.headers["cache-control"] == "no-store"
    assert {r["case_ref"] for r in read_csv(answer.text)} == {cases["ke1"], cases["ke2"]}
    again = client.get("/api/v1/exports/cases?country=KE", headers=as_("coord"))
    assert len(read_csv(again.text)) == 2


def test_a_coordinator_asking_for_another_country_is_forbidden(
    client: TestClient, cases: dict[str, str], as_: Headers
) -> None:
    answer = client.get("/api/v1/exports/cases?country=SO", headers=as_("coord"))
    assert answer.status_code == 403


def test_an_admin_exports_every_country_as_xlsx(
    client: TestClient, cases: dict[str, str], as_: Headers, tmp_path: Path
) -> None:
    answer = client.get("/api/v1/exports/cases?format=xlsx", headers=as_("boss"))
    assert answer.status_code == 200
    path = tmp_path / "a.xlsx"
    path.write_bytes(answer.content)
    assert {r["case_ref"] for r in read_xlsx(path)} == set(cases.values())
    only = client.get("/api/v1/exports/cases?country=SO&from=2000-01-01", headers=as_("boss"))
    assert [r["case_ref"] for r in read_csv(only.text)] == [cases["so"]]


def test_other_roles_and_strangers_cannot_export(
    client: TestClient, cases: dict[str, str], as_: Headers
) -> None:
    assert client.get("/api/v1/exports/cases", headers=as_("amina")).status_code == 403
    assert client.get("/api/v1/exports/cases").status_code == 401


@pytest.mark.parametrize(
    "query", ["format=pdf", "from=2026-13-01", "country=KEN", "from=2026-02-01&to=2026-01-01"]
)
def test_bad_queries_are_422(
    client: TestClient, cases: dict[str, str], as_: Headers, query: str
) -> None:
    assert client.get(f"/api/v1/exports/cases?{query}", headers=as_("boss")).status_code == 422
