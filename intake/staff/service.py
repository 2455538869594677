"""Staff accounts as the CLI manages them: add, revoke tokens, enrol TOTP.

Functions take the session and flush; the command commits once. Refusals are
`AccountError` with a one-line reason the CLI prints as it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from crypto.kdf import KdfCost
from crypto.passwords import STAFF_PASSWORD_COST, hash_password
from crypto.server_secret import ServerSecret
from intake.audit import trail as audit
from intake.models import StaffSession, StaffToken, StaffUser, utcnow
from intake.models.staff import ROLES
from intake.staff import totp
from routing.constants import is_country_code
from routing.table import RoutingTable

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$")
CLI_ACTOR = "cli"


class AccountError(Exception):
    """A request the account rules refuse; the message is one line for the CLI."""


@dataclass(frozen=True)
class Staff:
    """The signed-in account a request acts as (no secrets in here)."""

    user_id: int
    username: str
    role: str
    focal_point_id: str | None
    country: str | None


@dataclass(frozen=True, repr=False)
class NewAccount:
    username: str
    role: str
    password: str
    focal_point_id: str | None = None
    country: str | None = None

    def __repr__(self) -> str:
        return f"NewAccount(username={self.username!r}, role={self.role!r})"


def add_user(
    session: Session,
    account: NewAccount,
    *,
    table: RoutingTable | None,
    cost: KdfCost = STAFF_PASSWORD_COST,
    actor: str = CLI_ACTOR,
) -> StaffUser:
    """Create an account; `table` is the active routing table (None: none loaded)."""
    _check_account(account, table)
    # Names differing only in case would let one account pass for another.
    taken = session.scalars(
        select(StaffUser.id).where(func.lower(StaffUser.username) == account.username.lower())
    ).first()
    if taken is not None:
        raise AccountError(f"an account named {account.username} already exists")
    user = StaffUser(
        username=account.username,
        role=account.role,
        password_hash=hash_password(account.password, cost=cost),
        focal_point_id=account.focal_point_id,
        country=account.country,
    )
    session.add(user)
    session.flush()
    audit.append(
        session,
        actor=actor,
        action="staff.user_added",
        detail={
            "username": user.username,
            "role": user.role,
            "focal_point": user.focal_point_id,
            "country": user.country,
        },
    )
    return user


def _check_account(account: NewAccount, table: RoutingTable | None) -> None:
    if not USERNAME.match(account.username):
        raise AccountError(
            "a username is 1 to 128 letters, digits, '.', '_', '@' or '-', "
            "starting with a letter or digit"
        )
    if account.role not in ROLES:
        raise AccountError(f"the role must be one of: {', '.join(ROLES)}")
    if account.password == "":
        raise AccountError("the password file is empty")
    if account.country is not None and not is_country_code(account.country):
        raise AccountError("--country must be an ISO 3166-1 alpha-2 code in upper case")
    if account.role == "coordinator" and account.country is None:
        raise AccountError("a coordinator account needs --country")
    if account.role != "focal_point":
        if account.focal_point_id is not None:
            raise AccountError("--focal-point is only for focal_point accounts")
        return
    if account.focal_point_id is None:
        raise AccountError("a focal_point account needs --focal-point")
    if table is None:
        raise AccountError(
            "no routing table is loaded; run `intake routing load FILE` or `intake serve` first"
        )
    if table.focal_point(account.focal_point_id) is None:
        raise AccountError(
            f"focal point {account.focal_point_id} is not in the active routing table "
            f"(version {table.version})"
        )


def revoke_tokens(
    session: Session, *, username: str, actor: str = CLI_ACTOR, now: datetime | None = None
) -> int:
    """Revoke every live token of an account and end its web sessions.

    Returns how many tokens were live (web sessions are counted in the audit entry).
    """
    user = existing_user(session, username)
    count, sessions = end_credentials(session, user, now or utcnow())
    audit.append(
        session,
        actor=actor,
        action="staff.tokens_revoked",
        detail={"username": user.username, "count": count, "sessions": sessions},
    )
    return count


def end_credentials(session: Session, user: StaffUser, now: datetime) -> tuple[int, int]:
    """End every live token and web session of an account: (tokens, sessions) ended."""
    tokens = session.execute(
        update(StaffToken)
        .where(StaffToken.user_id == user.id, StaffToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    sessions = session.execute(
        update(StaffSession)
        .where(StaffSession.user_id == user.id, StaffSession.ended_at.is_(None))
        .values(ended_at=now)
    )
    return int(getattr(tokens, "rowcount", 0) or 0), int(getattr(sessions, "rowcount", 0) or 0)


def set_password(
    session: Session,
    *,
    username: str,
    password: str,
    cost: KdfCost = STAFF_PASSWORD_COST,
    actor: str = CLI_ACTOR,
    now: datetime | None = None,
) -> int:
    """Set a new password and end every token and web session; how many tokens were live.

    The lock-out counters start again: whoever sets the password is the admin.
    """
    if password == "":
        raise AccountError("the password file is empty")
    user = existing_user(session, username)
    user.password_hash = hash_password(password, cost=cost)
    user.failed_logins = 0
    user.locked_until = None
    count, sessions = end_credentials(session, user, now or utcnow())
    session.flush()
    audit.append(
        session,
        actor=actor,
        action="staff.password_set",
        detail={"username": user.username, "tokens_ended": count, "sessions_ended": sessions},
    )
    return count


def enrol_totp(
    session: Session,
    secret: ServerSecret,
    *,
    username: str,
    replace: bool = False,
    actor: str = CLI_ACTOR,
) -> str:
    """Enrol the account in TOTP; returns the otpauth:// URI (show it once)."""
    user = existing_user(session, username)
    if user.totp_sealed is not None and not replace:
        raise AccountError(f"{user.username} already uses TOTP; add --replace to enrol again")
    replaced = user.totp_sealed is not None
    enrolment = totp.enrol(secret, user.username)
    user.totp_sealed = enrolment.sealed
    user.totp_last_step = None
    session.flush()
    audit.append(
        session,
        actor=actor,
        action="staff.totp_enrolled",
        detail={"username": user.username, "replaced": replaced},
    )
    return enrolment.uri


def _find(session: Session, username: str) -> StaffUser | None:
    return session.scalars(select(StaffUser).where(StaffUser.username == username)).first()


def existing_user(session: Session, username: str) -> StaffUser:
    user = _find(session, username)
    if user is None:
        raise AccountError("there is no account with that username")
    return user
