"""`intake export cases --out FILE [--country CC] [--from D] [--to D]` (SPEC section 12).

The format follows the file's extension (`.csv`, `.xlsx`). Rows are read in
batches and written as they come, so memory stays flat for any number of
cases; a progress bar goes to stderr when it is a terminal.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError
from tqdm import tqdm

from intake.commands.base import Subparsers, UserError, load_settings, out
from intake.commands.contexts import open_context
from intake.commands.export_aggregate import add_aggregate_command
from intake.coordination import case_export
from intake.coordination.files import Row, format_of, write_file
from intake.models import utcnow
from routing.constants import is_country_code


def register(subcommands: Subparsers) -> None:
    parser = subcommands.add_parser("export", help="files for coordinators (clear metadata only)")
    actions = parser.add_subparsers(dest="export_command", required=True)
    cases = actions.add_parser("cases", help="one row per case, as CSV or XLSX")
    cases.add_argument("--out", required=True, type=Path, help="FILE.csv or FILE.xlsx")
    cases.add_argument("--country", help="ISO 3166-1 alpha-2 code (default: every country)")
    cases.add_argument("--from", dest="start", metavar="YYYY-MM-DD", help="received on or after")
    cases.add_argument("--to", dest="end", metavar="YYYY-MM-DD", help="received on or before")
    cases.set_defaults(handler=run_cases)
    add_aggregate_command(actions)


def parse_day(text: str | None, *, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text) if len(text) == 10 else _bad_day(option)
    except ValueError:
        return _bad_day(option)


def _bad_day(option: str) -> date:
    raise UserError(f"{option} must be a date as YYYY-MM-DD")


def export_filter(
    country: str | None, start: str | None, end: str | None
) -> case_export.ExportFilter:
    if country is not None and not is_country_code(country):
        raise UserError("--country must be an ISO 3166-1 alpha-2 code such as KE")
    which = case_export.ExportFilter(
        country=country,
        start=parse_day(start, option="--from"),
        end=parse_day(end, option="--to"),
    )
    if which.start and which.end and which.start > which.end:
        raise UserError("--from must not be after --to")
    return which


def run_cases(args: argparse.Namespace) -> int:
    path: Path = args.out
    if format_of(path) is None:
        raise UserError(f"--out must end in .csv or .xlsx, not {path.suffix or 'nothing'}")
    which = export_filter(args.country, args.start, args.end)
    context = open_context(load_settings())
    try:
        with context.sessions() as session:
            total = case_export.count(session, which)
            rows = case_export.rows(session, which, now=utcnow())
            write_file(path, case_export.COLUMNS, _with_progress(rows, total))
    except SQLAlchemyError as exc:
        raise UserError(f"database error: {type(exc).__name__}") from None
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror}") from None
    finally:
        context.close()
    out(f"exported {total} cases to {path}")
    return 0


def _with_progress(rows: Iterable[Row], total: int) -> Iterator[Row]:
    bar = tqdm(
        total=total, file=sys.stderr, unit="case", delay=1.0, disable=not sys.stderr.isatty()
    )
    with bar:
        for row in rows:
            yield row
            bar.update(1)
