"""Account administration (SPEC section 13): list, disable and enable, remove TOTP.

Disabling ends every token and web session at once, through the same helper
that `revoke` and a new password use, and sign-in refuses a disabled account.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from intake.audit import trail as audit
from intake.models import utcnow
from intake.models.staff import StaffSession, StaffToken, StaffUser
from intake.staff.service import CLI_ACTOR, AccountError, end_credentials, existing_user


@dataclass(frozen=True)
class AccountLine:
    username: str
    role: str
    scope: str  # the focal point id, the country, or "-"
    enabled: bool
    totp: bool
    last_sign_in: datetime | None


def list_accounts(session: Session) -> list[AccountLine]:
    """Every account by username; the last sign-in is its newest token or web session."""
    tokens = select(func.max(StaffToken.created_at)).where(StaffToken.user_id == StaffUser.id)
    pages = select(func.max(StaffSession.created_at)).where(StaffSession.user_id == StaffUser.id)
    statement = select(StaffUser, tokens.scalar_subquery(), pages.scalar_subquery()).order_by(
        StaffUser.username
    )
    lines = []
    for user, token_at, page_at in session.execute(statement):
        times = [at for at in (token_at, page_at) if at is not None]
        lines.append(
            AccountLine(
                username=user.username,
                role=user.role,
                scope=user.focal_point_id or user.country or "-",
                enabled=not user.disabled,
                totp=user.totp_sealed is not None,
                last_sign_in=max(times) if times else None,
            )
        )
    return lines


def set_enabled(
    session: Session, *, username: str, enabled: bool, actor: str = CLI_ACTOR
) -> tuple[int, int]:
    """Enable or disable an account; disabling ends its (tokens, sessions), returned."""
    user = existing_user(session, username)
    ended = (0, 0) if enabled else end_credentials(session, user, utcnow())
    user.disabled = not enabled
    session.flush()
    audit.append(
        session,
        actor=actor,
        action="staff.enabled" if enabled else "staff.disabled",
        detail={"username": user.username, "tokens": ended[0], "sessions": ended[1]},
    )
    return ended


def remove_totp(session: Session, *, username: str, actor: str = CLI_ACTOR) -> None:
    user = existing_user(session, username)
    if user.totp_sealed is None:
        raise AccountError(f"{user.username} does not use TOTP")
    user.totp_sealed = None
    user.totp_last_step = None
    session.flush()
    audit.append(
        session, actor=actor, action="staff.totp_removed", detail={"username": user.username}
    )
