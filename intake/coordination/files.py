"""Tables written as CSV or XLSX in constant memory, with formula-safe cells.

A row is a list of `Cell`s. A text cell that starts with `=`, `+`, `-`, `@`, a
tab or a carriage return would be evaluated by a spreadsheet (CSV injection):
in CSV it gets a leading single quote, which every spreadsheet shows as text;
in XLSX every text goes through `write_string`, which stores it as a string
that is never parsed as a formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Literal

import xlsxwriter

Cell = str | int | bool | None
Row = Sequence[Cell]
Format = Literal["csv", "xlsx"]
FORMATS: tuple[Format, ...] = ("csv", "xlsx")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_CHUNK = 64 * 1024


def format_of(path: Path) -> Format | None:
    """The format a file's extension names, or None for any other."""
    suffix = path.suffix.lower().lstrip(".")
    return "csv" if suffix == "csv" else "xlsx" if suffix == "xlsx" else None


def formula_safe(text: str) -> str:
    """A CSV cell no spreadsheet evaluates."""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def csv_text(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "true" if cell else "false"
    return formula_safe(str(cell))


def csv_chunks(header: Sequence[str], rows: Iterable[Row]) -> Iterator[str]:
    """The CSV text in pieces of about 64 KiB: memory stays constant however many rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([formula_safe(name) for name in header])
    for row in rows:
        writer.writerow([csv_text(cell) for cell in row])
        if buffer.tell() >= _CHUNK:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()


def write_csv(target: IO[str], header: Sequence[str], rows: Iterable[Row]) -> None:
    for chunk in csv_chunks(header, rows):
        target.write(chunk)


def write_xlsx(
    target: str | IO[bytes],
    header: Sequence[str],
    rows: Iterable[Row],
    *,
    sheet_name: str = "cases",
) -> None:
    """One sheet; `constant_memory` flushes each row to XlsxWriter's temp file as it goes.

    Those temp files hold what the rows hold: exports carry clear metadata only,
    never a sealed field, so they may touch the disk.
    """
    workbook = xlsxwriter.Workbook(target, {"constant_memory": True})
    try:
        sheet = workbook.add_worksheet(sheet_name)
        for column, name in enumerate(header):
            sheet.write_string(0, column, name)
        for number, row in enumerate(rows, start=1):
            for column, cell in enumerate(row):
                _xlsx_cell(sheet, number, column, cell)
    finally:
        workbook.close()


def _xlsx_cell(sheet: xlsxwriter.worksheet.Worksheet, row: int, column: int, cell: Cell) -> None:
    if cell is None:
        return
    if isinstance(cell, bool):
        sheet.write_boolean(row, column, cell)
    elif isinstance(cell, int):
        sheet.write_number(row, column, cell)
    else:
        sheet.write_string(row, column, cell)  # never `write`: it would parse "=..." as a formula


def write_file(path: Path, header: Sequence[str], rows: Iterable[Row]) -> None:
    """Write `rows` to `path` in the format its extension names (ValueError for another)."""
    kind = format_of(path)
    if kind == "csv":
        with path.open("w", encoding="utf-8", newline="") as target:
            write_csv(target, header, rows)
    elif kind == "xlsx":
        write_xlsx(str(path), header, rows)
    else:
        raise ValueError("unknown export format")


def file_chunks(handle: IO[bytes]) -> Iterator[bytes]:
    """A finished file read back in pieces (for a streamed HTTP answer), then closed."""
    try:
        handle.seek(0)
        while chunk := handle.read(_CHUNK):
            yield chunk
    finally:
        handle.close()
