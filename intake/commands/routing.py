"""`intake routing check FILE` and `intake routing load FILE`."""

from __future__ import annotations

import argparse
import getpass
from pathlib import Path

from channels.registry import installed
from crypto.server_secret import SecretFileError, load_or_create
from intake.audit import trail as audit
from intake.commands.base import Subparsers, UserError, err, load_settings, out, read_text_file
from intake.commands.db import apply_migrations
from intake.db import make_engine, make_sessionmaker, transaction
from intake.routing_tables.store import store_table
from intake.settings import Settings
from routing.table import check_table_text


def register(subcommands: Subparsers) -> None:
    routing = subcommands.add_parser("routing", help="the routing table")
    actions = routing.add_subparsers(dest="routing_command", required=True)
    check = actions.add_parser("check", help="validate a routing table")
    check.add_argument("file", type=Path)
    check.set_defaults(handler=run_check)
    load = actions.add_parser("load", help="validate a table and make it active for every server")
    load.add_argument("file", type=Path)
    load.set_defaults(handler=run_load)


def table_problems(text: str, settings: Settings) -> tuple[list[str], list[str]]:
    """(problems, warnings) of a table: its own, then what an installed channel cannot
    serve with this configuration (a voice language without speech, SPEC 17)."""
    result = check_table_text(text)
    problems = list(result.problems)
    if result.table is not None:
        for channel in installed():
            problems += channel.table_problems(result.table, settings)
    return problems, list(result.warnings)


def _checked(path: Path) -> str:
    """The table's text when valid; otherwise every problem on stderr and exit 1."""
    text = read_text_file(path, what="routing table")
    problems, warnings = table_problems(text, load_settings())
    for warning in warnings:
        err(f"warning: {warning}")
    if problems:
        for problem in problems:
            err(problem)
        raise SystemExit(1)
    return text


def run_check(args: argparse.Namespace) -> int:
    _checked(args.file)
    out(f"{args.file}: valid")
    return 0


def run_load(args: argparse.Namespace) -> int:
    text = _checked(args.file)
    settings = load_settings()
    try:
        secret = load_or_create(settings.resolved_secret_file)
    except SecretFileError as exc:
        raise UserError(str(exc)) from None
    apply_migrations(settings.resolved_database_url)
    engine = make_engine(settings.resolved_database_url)
    actor = f"cli:{getpass.getuser()}"
    try:
        with transaction(make_sessionmaker(engine, secret=secret)) as session:
            row = store_table(session, text, loaded_by="intake routing load")
            audit.append(
                session,
                actor=actor,
                action="routing.loaded",
                detail={"version": row.version, "sha256": row.sha256, "table_id": row.id},
            )
            version, row_id = row.version, row.id
    finally:
        engine.dispose()
    out(f"routing table {version!r} is active (load #{row_id})")
    return 0
