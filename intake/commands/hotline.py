"""`intake hotline import FILE [--receipts-out FILE]`: call transcripts in, idempotently.

Output: one line on stdout per rejected row (row number, call id when
readable, `field: code` problems; never a value), a progress bar on stderr
when stderr is a terminal, and a summary line on stderr. Exit 0 when no row
was rejected, 1 otherwise. Receipts are written only to `--receipts-out`.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from sqlalchemy.exc import SQLAlchemyError
from tqdm import tqdm

from channels.hotline.importer import (
    Imported,
    NothingToRouteWith,
    Outcome,
    Rejected,
    Skipped,
    ensure_routable,
    import_row,
)
from channels.hotline.transcripts import Row, TranscriptFileError, read_transcripts
from intake.commands.base import Subparsers, UserError, err, load_settings
from intake.commands.contexts import open_context
from intake.context import AppContext
from intake.logs import configure_logging
from intake.settings import Settings

log = logging.getLogger("intake.hotline.import")
RECEIPT_COLUMNS = ("call_id", "case_ref", "receipt")


@dataclass
class Counts:
    imported: int = 0
    skipped: int = 0
    rejected: int = 0

    def add(self, outcome: Outcome) -> None:
        if isinstance(outcome, Imported):
            self.imported += 1
        elif isinstance(outcome, Skipped):
            self.skipped += 1
        else:
            self.rejected += 1

    def summary(self) -> str:
        return f"imported {self.imported}, skipped {self.skipped}, rejected {self.rejected}"


def register(subcommands: Subparsers) -> None:
    hotline = subcommands.add_parser("hotline", help="hotline calls")
    actions = hotline.add_subparsers(dest="hotline_command", required=True)
    command = actions.add_parser("import", help="import call transcripts (CSV or JSON Lines)")
    command.add_argument("file", type=Path)
    command.add_argument(
        "--receipts-out",
        type=Path,
        default=None,
        help="write call_id,case_ref,receipt of each imported call to this new file (mode 0600)",
    )
    command.set_defaults(handler=run_import)


def run_import(args: argparse.Namespace) -> int:
    settings = load_settings()
    configure_logging(settings.log_level)
    if settings.log_level != "debug":
        # One log line per case would bury the report; the audit trail has each case.
        logging.getLogger("intake.reports").setLevel(logging.WARNING)
    try:
        rows = read_transcripts(args.file)
    except TranscriptFileError as exc:
        raise UserError(str(exc)) from None
    context = _routable_context(settings)
    try:
        with _receipts_file(args.receipts_out) as receipts:
            counts = _import_all(context, rows, receipts)
    finally:
        context.close()
    log.info(
        "hotline import finished",
        extra={"imported": counts.imported, "skipped": counts.skipped, "rejected": counts.rejected},
    )
    err(counts.summary())  # the last line the user sees
    return 1 if counts.rejected else 0


def _routable_context(settings: Settings) -> AppContext:
    context = open_context(settings)
    try:
        ensure_routable(context)
    except NothingToRouteWith:
        context.close()
        raise UserError(
            "no routing table is loaded: run `intake routing load FILE` first; nothing imported"
        ) from None
    return context


class ReceiptsOut:
    """`call_id,case_ref,receipt` lines in a new file, each flushed at once:
    the receipt exists nowhere else."""

    def __init__(self, handle: TextIO) -> None:
        self._handle = handle
        self._writer = csv.writer(handle)
        self._writer.writerow(RECEIPT_COLUMNS)

    def write(self, call_id: str, imported: Imported) -> None:
        self._writer.writerow((call_id, imported.case_ref, imported.receipt))
        self._handle.flush()


@contextmanager
def _receipts_file(path: Path | None) -> Iterator[ReceiptsOut | None]:
    """A new file, mode 0600 from its creation; never an existing one (no overwrite)."""
    if path is None:
        yield None
        return
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise UserError(f"receipts file {path} already exists; nothing imported") from None
    except OSError as exc:
        raise UserError(f"cannot create receipts file {path}: {exc.strerror}") from None
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
        try:
            yield ReceiptsOut(handle)
        finally:
            handle.flush()
            os.fsync(handle.fileno())


def _import_all(context: AppContext, rows: list[Row], receipts: ReceiptsOut | None) -> Counts:
    counts = Counts()
    bar = tqdm(
        total=len(rows), file=sys.stderr, unit="call", delay=1.0, disable=not sys.stderr.isatty()
    )
    with bar:
        for row in rows:
            try:
                outcome = import_row(context, row)
            except SQLAlchemyError as exc:
                raise UserError(
                    f"database error ({type(exc).__name__}) at row {row.number}; "
                    f"{counts.summary()} so far; run the same import again to go on"
                ) from None
            counts.add(outcome)
            _report(row, outcome, receipts)
            bar.update(1)
    return counts


def _report(row: Row, outcome: Outcome, receipts: ReceiptsOut | None) -> None:
    if isinstance(outcome, Rejected):
        tqdm.write(rejection_line(row, outcome.problems), file=sys.stdout)
        sys.stdout.flush()
    elif isinstance(outcome, Imported) and receipts is not None and row.call_id is not None:
        receipts.write(row.call_id, outcome)


def rejection_line(row: Row, problems: tuple[str, ...]) -> str:
    """`row N (call_id "X"): rejected: field: code; ...`, content-free by construction."""
    call = f" (call_id {json.dumps(row.call_id, ensure_ascii=False)})" if row.call_id else ""
    return f"row {row.number}{call}: rejected: {'; '.join(problems) or 'invalid'}"
