"""`intake audit verify [--head SEQ:HASH]`, `intake audit head` and `intake audit list`.

`verify` checks the keyed hash chain, then every case's envelope against it;
with `--head` also that a head kept outside the database is still there,
unchanged (a cut-off or rebuilt trail). `head` prints the newest entry as one
JSON line to keep elsewhere (the worker also mails it daily to `[audit] notify`).
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from typing import TypeVar

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import SQLAlchemyError

from crypto.server_secret import SecretFileError, ServerSecret, load_or_create
from intake.audit import trail as audit
from intake.audit.integrity import verify_envelopes
from intake.commands.base import Subparsers, UserError, load_settings, out
from intake.commands.db import apply_migrations
from intake.db import make_engine, make_sessionmaker
from intake.models import AuditEvent

T = TypeVar("T")
_HEAD = re.compile(r"([0-9]{1,18}):([0-9a-f]{64})")


def register(subcommands: Subparsers) -> None:
    parser = subcommands.add_parser("audit", help="the audit trail")
    actions = parser.add_subparsers(dest="audit_command", required=True)
    verify = actions.add_parser("verify", help="check the hash chain and the case envelopes")
    verify.add_argument(
        "--head", metavar="SEQ:HASH", help="a head printed earlier by `intake audit head`"
    )
    verify.set_defaults(handler=run_verify)
    head = actions.add_parser("head", help="print the newest entry to keep outside the database")
    head.set_defaults(handler=run_head)
    listing = actions.add_parser("list", help="print the trail as JSON lines, never content")
    listing.add_argument("--case", metavar="REF", help="only this case's entries")
    listing.add_argument("--action", metavar="A", help="only this action, e.g. case.read")
    listing.add_argument("--since", metavar="YYYY-MM-DD", help="only entries on or after this day")
    listing.set_defaults(handler=run_list)


def parse_head(text: str) -> tuple[int, str]:
    match = _HEAD.fullmatch(text.strip())
    if match is None:
        raise UserError("--head must be SEQ:HASH as printed by `intake audit head`")
    return int(match.group(1)), match.group(2)


def run_verify(args: argparse.Namespace) -> int:
    expected = parse_head(args.head) if args.head is not None else None
    count = _with_engine(lambda engine, secret: check(engine, secret, head=expected))
    out(f"audit trail intact ({count} entries)")
    return 0


def run_head(args: argparse.Namespace) -> int:
    line = _with_engine(head_line)
    out(line)
    return 0


def run_list(args: argparse.Namespace) -> int:
    since = _day(args.since) if args.since is not None else None
    _with_engine(lambda engine, secret: list_entries(engine, secret, args.case, args.action, since))
    return 0


def _day(text: str) -> datetime:
    try:
        day = date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        day = None
    if day is None:
        raise UserError("--since must be a date as YYYY-MM-DD")
    return datetime.combine(day, time(0), tzinfo=UTC)


def list_entries(
    engine: Engine,
    secret: ServerSecret,
    case_ref: str | None,
    action: str | None,
    since: datetime | None,
) -> None:
    """One JSON line per entry, oldest first; `detail` is left out: only who, what, when."""
    statement = select(
        AuditEvent.id, AuditEvent.at, AuditEvent.actor, AuditEvent.action, AuditEvent.case_ref
    ).order_by(AuditEvent.id)
    if case_ref is not None:
        statement = statement.where(AuditEvent.case_ref == case_ref)
    if action is not None:
        statement = statement.where(AuditEvent.action == action)
    if since is not None:
        statement = statement.where(AuditEvent.at >= since)
    with make_sessionmaker(engine, secret=secret)() as session:
        for seq, at, actor, what, ref in session.execute(
            statement.execution_options(yield_per=500)
        ):
            entry = {"seq": seq, "at": _at(at), "actor": actor, "action": what, "case_ref": ref}
            out(json.dumps(entry, separators=(",", ":")))


def _at(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def head_line(engine: Engine, secret: ServerSecret) -> str:
    with make_sessionmaker(engine, secret=secret)() as session:
        newest = audit.head(session)
    if newest is None:
        raise UserError("the audit trail is empty")
    at = newest.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return json.dumps({"seq": newest.seq, "hash": newest.hash, "at": at}, separators=(",", ":"))


def _with_engine(work: Callable[[Engine, ServerSecret], T]) -> T:
    settings = load_settings()
    path = settings.resolved_secret_file
    if not path.exists():  # a new secret would make every keyed entry look changed
        raise UserError(f"secret file {path} is missing: keyed audit entries need it")
    try:
        secret = load_or_create(path)
    except SecretFileError as exc:
        raise UserError(str(exc)) from None
    apply_migrations(settings.resolved_database_url)
    engine = make_engine(settings.resolved_database_url)
    try:
        return work(engine, secret)
    except SQLAlchemyError as exc:
        raise UserError(f"cannot read the audit trail: {type(exc).__name__}") from None
    finally:
        engine.dispose()


def check(engine: Engine, secret: ServerSecret, *, head: tuple[int, str] | None = None) -> int:
    """The number of entries when all is whole; UserError naming the first break."""
    if engine.dialect.name == "postgresql":
        # One snapshot for both scans: a case written between them is no false alarm.
        engine = engine.execution_options(isolation_level="REPEATABLE READ")
    with make_sessionmaker(engine, secret=secret)() as session:
        broken = audit.verify(session)
        if broken is None and head is not None:
            broken = audit.check_head(session, seq=head[0], digest=head[1])
        if broken is not None:
            raise UserError(f"audit trail broken at entry {broken.entry_id}: {broken.reason}")
        mismatch = verify_envelopes(session)
        if mismatch is not None:
            raise UserError(f"audit trail broken at {mismatch.line()}")
        return int(session.scalar(select(func.count(AuditEvent.id))) or 0)
