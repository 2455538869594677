"""Reading call transcripts (SPEC section 9, "Hotline import") into validated rows.

The whole file is read and parsed before anything is imported, so a file
that cannot be read or parsed imports nothing. Each row is then validated on
its own: a bad row carries content-free problems (`field: code`) and never
the value that failed, since most values are sealed content.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from channels.hotline.schemas import HotlineReportIn

COLUMNS = (
    "call_id",
    "reporter_type",
    "language",
    "country",
    "category",
    "affiliation",
    "victim_is_child",
    "contact_me",
    "share_with_investigators",
    "refer_to_services",
    "narrative",
    "incident_date",
    "location",
    "reporter_name",
    "reporter_contact",
    "victim_name",
    "victim_age",
    "victim_sex",
    "started_at",
    "duration_s",
)
# Beyond SPEC's list: the caller's number (sealed), as the operator API takes it.
OPTIONAL_COLUMNS = ("caller_number",)
# Where each CSV column goes in the ReportIn-shaped object (and back, for messages).
_PATHS: Mapping[str, tuple[str, ...]] = {
    "contact_me": ("consent", "contact_me"),
    "share_with_investigators": ("consent", "share_with_investigators"),
    "refer_to_services": ("consent", "refer_to_services"),
    "reporter_name": ("reporter", "name"),
    "reporter_contact": ("reporter", "contact"),
    "victim_name": ("victim", "name"),
    "victim_age": ("victim", "age"),
    "victim_sex": ("victim", "sex"),
    "started_at": ("call", "started_at"),
    "duration_s": ("call", "duration_s"),
    "caller_number": ("call", "caller_number"),
}
_COLUMN_OF = {path: column for column, path in _PATHS.items()}
_BOOL_COLUMNS = frozenset({"victim_is_child", *COLUMNS[7:10]})
_INT_COLUMNS = frozenset({"victim_age", "duration_s"})
_TRUE = frozenset({"true", "yes", "1"})
_FALSE = frozenset({"false", "no", "0"})
_INTEGER = re.compile(r"^[+-]?\d{1,9}$")
CALL_ID_MAX = 128
FieldName = Callable[[tuple[str, ...]], str]
CSV_SUFFIXES = frozenset({".csv"})
JSONL_SUFFIXES = frozenset({".jsonl", ".ndjson"})


class TranscriptFileError(Exception):
    """The file as a whole cannot be read; the message quotes no content."""


@dataclass(frozen=True, repr=False)
class Row:
    """One call: its number in the file, its call id when readable, and either a
    validated report or the problems that reject it."""

    number: int
    call_id: str | None
    report: HotlineReportIn | None
    problems: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return f"Row(number={self.number}, problems={self.problems!r})"


def read_transcripts(path: Path) -> list[Row]:
    """Every row of a CSV or JSON Lines file, validated; TranscriptFileError when unreadable."""
    text = _read_text(path)
    if _is_csv(path, text):
        return list(_csv_rows(text))
    return list(_jsonl_rows(text))


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise TranscriptFileError(f"transcript file {path} does not exist") from None
    except IsADirectoryError:
        raise TranscriptFileError(f"transcript file {path} is a directory") from None
    except OSError as exc:
        raise TranscriptFileError(f"cannot read transcript file {path}: {exc.strerror}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TranscriptFileError(
            f"transcript file {path} is not UTF-8 text (at byte offset {exc.start})"
        ) from None


def _is_csv(path: Path, text: str) -> bool:
    """By extension; otherwise JSON Lines when the first visible character opens an object."""
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return True
    if suffix in JSONL_SUFFIXES:
        return False
    return not text.lstrip().startswith("{")


def _jsonl_rows(text: str) -> Iterator[Row]:
    """One object a line; a row's number is its line number (blank lines are skipped).

    Only LF (or CRLF) ends a line: JSON strings may hold U+2028 and friends.
    """
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except (ValueError, RecursionError):
            yield Row(number, None, None, ("json_invalid",))
            continue
        if not isinstance(data, dict):
            yield Row(number, None, None, ("not_an_object",))
            continue
        yield _validated(number, data, field_name=_dotted)


def _csv_rows(text: str) -> Iterator[Row]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise TranscriptFileError("the CSV file is empty: it needs a header row")
        columns = _checked_header(header)
        rows = list(reader)
    except csv.Error:
        # csv's own message is fixed text, but say it our way and quote nothing.
        raise TranscriptFileError(
            f"the CSV file is malformed near line {reader.line_num}; nothing was imported"
        ) from None
    for number, cells in enumerate(rows, start=1):
        if not cells:
            continue  # a blank line
        if len(cells) != len(columns):
            # Cells may have shifted: even the call id column could hold content.
            count = f"cells: {len(cells)} instead of {len(columns)}"
            yield Row(number, None, None, (count,))
            continue
        yield _validated(number, _csv_object(columns, cells), field_name=_column_name)


def _checked_header(header: list[str]) -> list[str]:
    """Known, unique column names; the message gives positions, never a cell's text
    (a missing header would make the first call's content the header)."""
    columns = [cell.strip() for cell in header]
    known = frozenset(COLUMNS) | frozenset(OPTIONAL_COLUMNS)
    unknown = [str(index) for index, name in enumerate(columns, start=1) if name not in known]
    if unknown:
        raise TranscriptFileError(
            f"the CSV header has unknown columns (positions {', '.join(unknown)}); "
            f"expected names among: {', '.join(COLUMNS + OPTIONAL_COLUMNS)}"
        )
    if len(set(columns)) != len(columns):
        raise TranscriptFileError("the CSV header names a column twice")
    if "call_id" not in columns:
        raise TranscriptFileError("the CSV header has no call_id column")
    return columns


def _csv_object(columns: list[str], cells: list[str]) -> dict[str, Any]:
    """The ReportIn-shaped object of one CSV row; an empty cell is absent."""
    data: dict[str, Any] = {}
    for column, cell in zip(columns, cells, strict=True):
        if cell == "":
            continue
        path = _PATHS.get(column, (column,))
        target = data
        for part in path[:-1]:
            target = target.setdefault(part, {})
        target[path[-1]] = _cell_value(column, cell)
    return data


def _cell_value(column: str, cell: str) -> object:
    """Booleans and integers from text; anything else unchanged (the model then
    rejects an unreadable boolean or integer with its own error code)."""
    word = cell.strip().lower()
    if column in _BOOL_COLUMNS:
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    elif column in _INT_COLUMNS and _INTEGER.match(word):
        return int(word)
    return cell


def _validated(number: int, data: dict[str, Any], *, field_name: FieldName) -> Row:
    raw_call_id = data.pop("call_id", None)
    call_id = raw_call_id if _readable_call_id(raw_call_id) else None
    problems: list[str] = []
    if call_id is None:
        problems.append("call_id: " + ("missing" if raw_call_id is None else "call_id_invalid"))
    report: HotlineReportIn | None = None
    try:
        report = HotlineReportIn.model_validate(data)
    except ValidationError as exc:
        problems.extend(_problems(exc, field_name))
    if problems:
        return Row(number, call_id, None, tuple(problems))
    return Row(number, call_id, report)


def _readable_call_id(value: object) -> bool:
    return (
        isinstance(value, str)
        and 0 < len(value) <= CALL_ID_MAX
        and value.isprintable()
        and bool(value.strip())
    )


def _problems(exc: ValidationError, field_name: FieldName) -> list[str]:
    """`field: code` for each error; pydantic's `input` and message are dropped."""
    problems = []
    for error in exc.errors(include_url=False, include_input=False, include_context=False):
        loc = tuple(str(part) for part in error["loc"])
        name = field_name(loc) if loc else ""
        problems.append(f"{name}: {error['type']}" if name else str(error["type"]))
    return problems


def _dotted(loc: tuple[str, ...]) -> str:
    return ".".join(loc)


def _column_name(loc: tuple[str, ...]) -> str:
    if len(loc) == 1:
        return loc[0]
    return _COLUMN_OF.get(loc[:2], ".".join(loc))
