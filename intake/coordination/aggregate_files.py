"""The aggregate rows as a file: CSV (the csv module) or XLSX (XlsxWriter).

Both hold the same header and cells: the year and printed counts as numbers,
"<N+1>" as text, victim_is_child as `true`/`false`/empty, no outcome as empty.
A text cell that a spreadsheet would read as a formula (it starts with `=`,
`+`, `-`, `@`, a tab or a carriage return) gets a leading apostrophe in the
CSV; in the XLSX every text is written as a string, never a formula. The XLSX
is built in memory (the file is small: one row per combination), never in a
temporary file.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Literal

import xlsxwriter

from intake.coordination.aggregate import COLUMNS, AggregateRow

Format = Literal["csv", "xlsx"]
MEDIA_TYPES: dict[Format, str] = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: object) -> str | int:
    """A value as a file cell: numbers stay numbers, the rest is text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return value
    return str(value)


def formula_safe(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def write(rows: Iterable[AggregateRow], file_format: Format) -> bytes:
    return _csv(rows) if file_format == "csv" else _xlsx(rows)


def _csv(rows: Iterable[AggregateRow]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        cells = (cell(value) for value in row.values())
        writer.writerow(formula_safe(c) if isinstance(c, str) else c for c in cells)
    return buffer.getvalue().encode("utf-8")


def _xlsx(rows: Iterable[AggregateRow]) -> bytes:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = workbook.add_worksheet("aggregate")
    for column, name in enumerate(COLUMNS):
        sheet.write_string(0, column, name)
    for number, row in enumerate(rows, start=1):
        for column, value in enumerate(row.values()):
            written = cell(value)
            if isinstance(written, int):
                sheet.write_number(number, column, written)
            else:
                sheet.write_string(number, column, written)
    workbook.close()
    return buffer.getvalue()
