"""`intake db upgrade`."""

from __future__ import annotations

import argparse

from sqlalchemy.exc import SQLAlchemyError

from intake.commands.base import Subparsers, UserError, load_settings, out
from intake.db import make_engine
from intake.logs import configure_logging
from intake.migrations import upgrade


def register(subcommands: Subparsers) -> None:
    db = subcommands.add_parser("db", help="database maintenance")
    actions = db.add_subparsers(dest="db_command", required=True)
    up = actions.add_parser("upgrade", help="apply pending migrations")
    up.set_defaults(handler=run_upgrade)


def run_upgrade(args: argparse.Namespace) -> int:
    settings = load_settings()
    configure_logging(settings.log_level)
    apply_migrations(settings.resolved_database_url)
    out("database is up to date")
    return 0


def apply_migrations(url: str) -> None:
    engine = make_engine(url)
    try:
        upgrade(engine)
    except SQLAlchemyError as exc:
        raise UserError(f"cannot migrate the database: {type(exc).__name__}") from None
    finally:
        engine.dispose()
