"""Formula-safe CSV and XLSX tables, read back by real readers (csv, openpyxl)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import openpyxl
import pytest

from intake.coordination.files import Row, csv_chunks, format_of, formula_safe, write_file

DANGEROUS = ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", '=HYPERLINK("http://x","y")']
HEADER = ("text", "flag", "empty")


@pytest.mark.parametrize("text", DANGEROUS)
def test_a_cell_a_spreadsheet_would_evaluate_gets_a_quote(text: str) -> None:
    assert formula_safe(text) == "'" + text


@pytest.mark.parametrize("text", ["plain", "1-2", "a=b", "", "'quoted"])
def test_other_cells_stay_as_they_are(text: str) -> None:
    assert formula_safe(text) == text


def rows() -> list[Row]:
    return [[text, index % 2 == 0, None] for index, text in enumerate([*DANGEROUS, "plain"])]


def test_csv_reads_back_with_every_dangerous_cell_quoted() -> None:
    text = "".join(csv_chunks(HEADER, rows()))
    read = list(csv.reader(io.StringIO(text, newline="")))
    assert read[0] == list(HEADER)
    assert [row[0] for row in read[1:]] == ["'" + t for t in DANGEROUS] + ["plain"]
    assert [row[1] for row in read[1:3]] == ["true", "false"]
    assert all(row[2] == "" for row in read[1:])


def test_csv_comes_in_pieces_that_join_to_the_whole() -> None:
    many: list[Row] = [["x" * 100, True, None]] * 2000
    chunks = list(csv_chunks(HEADER, many))
    assert len(chunks) > 1
    assert len(list(csv.reader(io.StringIO("".join(chunks), newline="")))) == 2001


def test_xlsx_stores_dangerous_cells_as_strings_never_formulas(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    write_file(path, HEADER, rows())
    sheet = openpyxl.load_workbook(path).active
    assert sheet is not None
    cells = list(sheet.iter_rows(values_only=False))
    assert [c.value for c in cells[0]] == list(HEADER)
    texts = [row[0] for row in cells[1:]]
    # XlsxWriter stores a carriage return as Excel's escape `_x000D_`; openpyxl leaves it so.
    values = [str(c.value).replace("_x000D_", "\r") for c in texts]
    assert values == [*DANGEROUS, "plain"]
    assert {c.data_type for c in texts} == {"s"}  # "f" would be a formula
    assert [row[1].value for row in cells[1:3]] == [True, False]
    assert all(row[2].value is None for row in cells[1:])


@pytest.mark.parametrize(
    ("name", "expected"),
    [("a.csv", "csv"), ("a.XLSX", "xlsx"), ("a.xls", None), ("a", None), ("a.csv.txt", None)],
)
def test_the_format_follows_the_extension(name: str, expected: str | None) -> None:
    assert format_of(Path(name)) == expected
