"""`intake retention run [--dry-run]`: shred closed cases past their period (SPEC 12).

The same pass as the worker's daily one (`intake.cases.retention`). Prints
the count by category; the dry run counts and changes nothing.
"""

from __future__ import annotations

import argparse

from sqlalchemy.exc import SQLAlchemyError

from intake.cases.retention import RetentionReport, active_retention, run_retention
from intake.commands.base import Subparsers, UserError, load_settings, out
from intake.commands.contexts import open_context
from intake.models import utcnow

ACTOR = "cli"


def register(subcommands: Subparsers) -> None:
    parser = subcommands.add_parser("retention", help="destroy the content of expired cases")
    actions = parser.add_subparsers(dest="retention_command", required=True)
    run_parser = actions.add_parser(
        "run", help="shred closed cases past the routing table's [retention] period"
    )
    run_parser.add_argument(
        "--dry-run", action="store_true", help="only count the cases that would go"
    )
    run_parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    context = open_context(load_settings(), migrate=False)
    try:
        if active_retention(context) is None:
            out("no [retention] in the active routing table: every case is kept")
            return 0
        report = run_retention(context, now=utcnow(), actor=ACTOR, dry_run=args.dry_run)
    except SQLAlchemyError as exc:
        raise UserError(f"database error: {type(exc).__name__}") from None
    finally:
        context.close()
    for line in report_lines(report, dry_run=args.dry_run):
        out(line)
    return 0


def report_lines(report: RetentionReport, *, dry_run: bool) -> list[str]:
    verb = "would shred" if dry_run else "shredded"
    noun = "case" if report.total == 1 else "cases"
    lines = [f"{verb} {report.total} {noun}"]
    lines += [f"{category}: {count}" for category, count in sorted(report.by_category.items())]
    return lines
