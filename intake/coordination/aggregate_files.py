"""The aggregate rows as a file: CSV or XLSX, through the writers every export shares.

Both hold the same header and cells: the year and printed counts as numbers,
"<N+1>" as text, victim_is_child as a boolean (`true`/`false` in the CSV) or
empty, no outcome as empty; cells are formula-safe (`intake.coordination.files`).
The file is small (one row per combination), so it is built in memory.
"""

from __future__ import annotations

import io
from collections.abc import Iterable

from intake.coordination.aggregate import COLUMNS, AggregateRow
from intake.coordination.files import Cell, Format, csv_chunks, write_xlsx

MEDIA_TYPES: dict[Format, str] = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def write(rows: Iterable[AggregateRow], file_format: Format) -> bytes:
    cells = [[_cell(value) for value in row.values()] for row in rows]
    if file_format == "csv":
        return "".join(csv_chunks(COLUMNS, cells)).encode("utf-8")
    buffer = io.BytesIO()
    write_xlsx(buffer, COLUMNS, cells, sheet_name="aggregate")
    return buffer.getvalue()


def _cell(value: object) -> Cell:
    return value if value is None or isinstance(value, (bool, int, str)) else str(value)
