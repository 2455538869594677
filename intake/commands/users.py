"""`intake users add|revoke|password|totp|list|disable|enable`: staff accounts, in the database.

They work while servers run: servers read accounts and tokens on every
request, so a revocation applies to every request that starts afterwards.
"""

from __future__ import annotations

import argparse
import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from crypto.kdf import KdfCost
from crypto.passwords import STAFF_PASSWORD_COST
from intake.cases.schemas import rfc3339
from intake.commands.base import (
    Subparsers,
    UserError,
    load_settings,
    out,
    read_secret_file,
    read_text_file,
)
from intake.commands.contexts import open_context
from intake.context import AppContext
from intake.db import transaction
from intake.models.staff import ROLES
from intake.staff.accounts import list_accounts, remove_totp, set_enabled
from intake.staff.service import (
    AccountError,
    NewAccount,
    add_user,
    enrol_totp,
    revoke_tokens,
    set_password,
)
from routing.table import RoutingTable, check_table_text


def register(subcommands: Subparsers) -> None:
    users = subcommands.add_parser("users", help="staff accounts")
    actions = users.add_subparsers(dest="users_command", required=True)
    add = actions.add_parser("add", help="create a staff account")
    add.add_argument("--username", required=True)
    add.add_argument("--role", required=True, help=", ".join(ROLES))
    add.add_argument("--password-file", required=True, type=Path)
    add.add_argument("--focal-point", help="focal point id (focal_point accounts)")
    add.add_argument("--country", help="ISO 3166-1 alpha-2 code (coordinator accounts)")
    add.set_defaults(handler=run_add)
    revoke = actions.add_parser("revoke", help="revoke every token of an account")
    revoke.add_argument("--username", required=True)
    revoke.set_defaults(handler=run_revoke)
    password = actions.add_parser(
        "password", help="set a new password and end every token of an account"
    )
    password.add_argument("--username", required=True)
    password.add_argument("--password-file", required=True, type=Path)
    password.set_defaults(handler=run_password)
    totp = actions.add_parser("totp", help="enrol an account in TOTP; prints the otpauth URI")
    totp.add_argument("--username", required=True)
    totp.add_argument("--replace", action="store_true", help="enrol again with a new secret")
    totp.add_argument("--remove", action="store_true", help="remove the account's TOTP")
    totp.set_defaults(handler=run_totp)
    listing = actions.add_parser("list", help="one line per account")
    listing.set_defaults(handler=run_list)
    for name, text in (
        ("disable", "refuse sign-in and end every token and web session"),
        ("enable", "allow sign-in again"),
    ):
        switch = actions.add_parser(name, help=text)
        switch.add_argument("--username", required=True)
        switch.set_defaults(handler=run_switch, enabled=name == "enable")


def run_add(args: argparse.Namespace, *, cost: KdfCost = STAFF_PASSWORD_COST) -> int:
    """`cost` is for tests only; the command line always uses the default."""
    password = read_secret_file(args.password_file, what="password file")
    account = NewAccount(
        username=args.username,
        role=args.role,
        password=password,
        focal_point_id=args.focal_point,
        country=args.country,
    )
    with staff_session() as (context, session):
        table = _active_table(context, session)
        user = add_user(session, account, table=table, cost=cost, actor=cli_actor())
        role, username = user.role, user.username
    out(f"created {role} account {username}")
    return 0


def run_revoke(args: argparse.Namespace) -> int:
    with staff_session() as (_context, session):
        count = revoke_tokens(session, username=args.username, actor=cli_actor())
    out(f"revoked {count} token{'' if count == 1 else 's'} of {args.username}")
    return 0


def run_password(args: argparse.Namespace, *, cost: KdfCost = STAFF_PASSWORD_COST) -> int:
    """`cost` is for tests only; the command line always uses the default."""
    password = read_secret_file(args.password_file, what="password file")
    with staff_session() as (_context, session):
        count = set_password(
            session, username=args.username, password=password, cost=cost, actor=cli_actor()
        )
    out(f"new password set for {args.username}; ended {count} token{'' if count == 1 else 's'}")
    return 0


def run_totp(args: argparse.Namespace) -> int:
    if args.remove:
        if args.replace:
            raise UserError("--remove and --replace do not go together")
        with staff_session() as (_context, session):
            remove_totp(session, username=args.username, actor=cli_actor())
        out(f"TOTP removed from {args.username}")
        return 0
    with staff_session() as (context, session):
        uri = enrol_totp(
            session, context.secret, username=args.username, replace=args.replace, actor=cli_actor()
        )
    # Shown once, after the commit; add it to an authenticator app now.
    out(uri)
    return 0


def run_list(_args: argparse.Namespace) -> int:
    with staff_session() as (_context, session):
        lines = list_accounts(session)
    for line in lines:
        seen = "never" if line.last_sign_in is None else rfc3339(line.last_sign_in)
        state = "enabled" if line.enabled else "disabled"
        totp = "totp:yes" if line.totp else "totp:no"
        out(f"{line.username} {line.role} {line.scope} {state} {totp} {seen}")
    return 0


def run_switch(args: argparse.Namespace) -> int:
    with staff_session() as (_context, session):
        tokens, sessions = set_enabled(
            session, username=args.username, enabled=args.enabled, actor=cli_actor()
        )
    if args.enabled:
        out(f"enabled {args.username}")
    else:
        out(f"disabled {args.username}; ended {tokens} tokens and {sessions} web sessions")
    return 0


@contextmanager
def staff_session() -> Iterator[tuple[AppContext, Session]]:
    """Migrate if needed, then one transaction; account refusals become user errors."""
    settings = load_settings()
    context = open_context(settings)
    try:
        with transaction(context.sessions) as session:
            yield context, session
    except AccountError as exc:
        raise UserError(str(exc)) from None
    except IntegrityError:
        raise UserError("an account with that username already exists") from None
    except SQLAlchemyError as exc:
        raise UserError(f"database error: {type(exc).__name__}") from None
    finally:
        context.close()


def _active_table(context: AppContext, session: Session) -> RoutingTable | None:
    """The active table or, before any is loaded, the one `INTAKE_ROUTING_FILE` names."""
    active = context.routing.active_or_none(session)
    path = context.settings.routing_file
    if active is not None or path is None:
        return active
    result = check_table_text(read_text_file(path, what="INTAKE_ROUTING_FILE"))
    if result.table is None:
        raise UserError(f"INTAKE_ROUTING_FILE {path} is not a valid routing table")
    return result.table


def cli_actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"
