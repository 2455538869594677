"""`intake export aggregate --out FILE [--year Y] [--country CC]` (SPEC section 12).

The aggregate rows (intake/coordination/aggregate.py), small cells suppressed
with `INTAKE_SMALL_CELL`, as CSV or XLSX after the file's extension.

`add_aggregate_command(actions)` adds `aggregate` to the `export` group that
`intake/commands/export.py` makes.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from intake.commands.base import Subparsers, UserError, load_settings, out
from intake.commands.contexts import open_context
from intake.coordination import aggregate_files
from intake.coordination.aggregate import aggregate_rows
from intake.coordination.files import Format
from intake.coordination.period import parse_year
from intake.db import transaction
from intake.errors import InvalidInput
from routing.constants import is_country_code

_FORMATS: dict[str, Format] = {".csv": "csv", ".xlsx": "xlsx"}


def add_aggregate_command(actions: Subparsers) -> None:
    aggregate = actions.add_parser(
        "aggregate", help="counts by year, country, agency, category, child, status, outcome"
    )
    aggregate.add_argument("--out", required=True, type=Path, help="FILE.csv or FILE.xlsx")
    aggregate.add_argument("--year", help="only the cases received in this year")
    aggregate.add_argument("--country", help="only this country (ISO 3166-1 alpha-2)")
    aggregate.set_defaults(handler=run_aggregate)


def run_aggregate(args: argparse.Namespace) -> int:
    path: Path = args.out
    file_format = _FORMATS.get(path.suffix.lower())
    if file_format is None:
        raise UserError("--out must end in .csv or .xlsx")
    try:
        year = parse_year(args.year)
    except InvalidInput as exc:
        raise UserError(f"--{exc.detail}") from None
    if args.country is not None and not is_country_code(args.country):
        raise UserError("--country must be an ISO 3166-1 alpha-2 code in upper case")
    if path.parent and not path.parent.is_dir():
        raise UserError(f"the folder of {path} does not exist")
    settings = load_settings()
    context = open_context(settings)
    try:
        with transaction(context.sessions) as session:
            rows = list(aggregate_rows(session, year, args.country, small=settings.small_cell))
    except SQLAlchemyError as exc:
        raise UserError(f"database error: {type(exc).__name__}") from None
    finally:
        context.close()
    try:
        path.write_bytes(aggregate_files.write(rows, file_format))
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror}") from None
    out(f"{len(rows)} rows written to {path}")
    return 0
