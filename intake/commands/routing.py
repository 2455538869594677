"""`intake routing check FILE`, `intake routing load FILE` and `intake routing show`."""

from __future__ import annotations

import argparse
import getpass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from channels.registry import installed
from crypto.server_secret import SecretFileError, load_or_create
from intake.audit import trail as audit
from intake.commands.base import Subparsers, UserError, err, load_settings, out, read_text_file
from intake.commands.db import apply_migrations
from intake.db import make_engine, make_sessionmaker, transaction
from intake.models import RoutingTableVersion
from intake.routing_tables.store import store_table
from intake.settings import Settings
from routing.entries import FocalPoint, Number, Rule
from routing.table import RoutingTable, check_table_text, load_table_text


def register(subcommands: Subparsers) -> None:
    routing = subcommands.add_parser("routing", help="the routing table")
    actions = routing.add_subparsers(dest="routing_command", required=True)
    check = actions.add_parser("check", help="validate a routing table")
    check.add_argument("file", type=Path)
    check.set_defaults(handler=run_check)
    load = actions.add_parser("load", help="validate a table and make it active for every server")
    load.add_argument("file", type=Path)
    load.set_defaults(handler=run_load)
    show = actions.add_parser(
        "show", help="print the active table's focal points, numbers and rules (no keys)"
    )
    show.set_defaults(handler=run_show)


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


def run_show(_args: argparse.Namespace) -> int:
    settings = load_settings()
    engine = make_engine(settings.resolved_database_url)
    try:
        with make_sessionmaker(engine)() as session:
            row = session.scalars(
                select(RoutingTableVersion).order_by(RoutingTableVersion.id.desc()).limit(1)
            ).first()
            loaded = None if row is None else (row.id, row.loaded_by, row.source)
    except SQLAlchemyError as exc:
        raise UserError(
            f"cannot read the database ({type(exc).__name__}); run `intake db upgrade`"
        ) from None
    finally:
        engine.dispose()
    if loaded is None:
        raise UserError(
            "no routing table is loaded; run `intake serve` (demo table) "
            "or `intake routing load FILE`"
        )
    row_id, loaded_by, source = loaded
    for line in show_lines(load_table_text(source), row_id=row_id, loaded_by=loaded_by):
        out(line)
    return 0


def show_lines(table: RoutingTable, *, row_id: int, loaded_by: str) -> list[str]:
    """The table as a person reads it: every id, country, number and rule; never a key."""
    lines = [f"routing table {table.version!r} (load #{row_id}, by {loaded_by})", ""]
    lines.append(f"focal points ({len(table.focal_points)}):")
    lines += [_focal_point_line(focal_point) for focal_point in table.focal_points]
    lines += ["", f"numbers ({len(table.numbers)}):"]
    lines += [_number_line(number) for number in table.numbers] or ["  (none)"]
    lines += ["", f"rules ({len(table.rules)}):"]
    lines += [_rule_line(rule) for rule in table.rules]
    if table.retention is not None:  # SPEC 12; without it every case is kept
        days = table.retention.closed_days
        kept = ", ".join(f"{name}: {count} d" for name, count in days.items()) or "(none)"
        lines += ["", f"retention after closing: {kept}"]
    return lines


def _focal_point_line(focal_point: FocalPoint) -> str:
    notify = ", ".join(focal_point.notify) or "(no alerts)"
    return (
        f"  {focal_point.id}  {focal_point.country}  {focal_point.agency}  "
        f"{focal_point.name!r}  alerts: {notify}"
    )


def number_channels(number: Number) -> list[str]:
    """What a number answers: every number takes SMS and WhatsApp (one webhook);
    voice calls only where the table sets `voice = true` (SPEC 17)."""
    return ["SMS", "WhatsApp", *(["voice"] if number.voice else [])]


def _number_line(number: Number) -> str:
    return (
        f"  {number.number}  {number.country}  languages: {', '.join(number.languages)}  "
        f"channels: {', '.join(number_channels(number))}"
    )


def _rule_line(rule: Rule) -> str:
    category = rule.category if rule.category == "*" else ",".join(rule.category)
    child = rule.child if rule.child == "*" else ("true" if rule.child else "false")
    cc = f"  cc: {', '.join(rule.cc)}" if rule.cc else ""
    return (
        f"  {rule.id}  country: {rule.country}  category: {category}  "
        f"affiliation: {rule.affiliation}  child: {child}  to: {', '.join(rule.to)}{cc}  "
        f"deadline: {rule.deadline_hours} h"
    )
