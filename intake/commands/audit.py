"""`intake audit verify`: the hash chain, then every case's envelope against it."""

from __future__ import annotations

import argparse

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from intake.audit import trail as audit
from intake.audit.integrity import verify_envelopes
from intake.commands.base import Subparsers, UserError, load_settings, out
from intake.commands.db import apply_migrations
from intake.db import make_engine
from intake.models import AuditEvent


def register(subcommands: Subparsers) -> None:
    parser = subcommands.add_parser("audit", help="the audit trail")
    actions = parser.add_subparsers(dest="audit_command", required=True)
    verify = actions.add_parser("verify", help="check the hash chain and the case envelopes")
    verify.set_defaults(handler=run_verify)


def run_verify(args: argparse.Namespace) -> int:
    settings = load_settings()
    apply_migrations(settings.resolved_database_url)
    engine = make_engine(settings.resolved_database_url)
    try:
        count = check(engine)
    except SQLAlchemyError as exc:
        raise UserError(f"cannot read the audit trail: {type(exc).__name__}") from None
    finally:
        engine.dispose()
    out(f"audit trail intact ({count} entries)")
    return 0


def check(engine: Engine) -> int:
    """The number of entries when all is whole; UserError naming the first break."""
    if engine.dialect.name == "postgresql":
        # One snapshot for both scans: a case written between them is no false alarm.
        engine = engine.execution_options(isolation_level="REPEATABLE READ")
    with Session(engine) as session:
        broken = audit.verify(session)
        if broken is not None:
            raise UserError(f"audit trail broken at entry {broken.entry_id}: {broken.reason}")
        mismatch = verify_envelopes(session)
        if mismatch is not None:
            raise UserError(f"audit trail broken at {mismatch.line()}")
        return int(session.scalar(select(func.count(AuditEvent.id))) or 0)
