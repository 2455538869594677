"""Staff web sessions: the one sign-in every staff page shares (SPEC section 10).

A session is its own row (`StaffSession`), found by a keyed hash of the
random cookie value, so a database copy holds no usable cookie. It opens
through `intake.staff.auth.sign_in` (the lockout and TOTP rules of the token
endpoint) and ends at sign-out, after `INTAKE_STAFF_IDLE_MINUTES` without a
request, at the token lifetime, and when `intake users revoke` revokes the
account (`intake.staff.service.revoke_tokens` ends sessions too).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from intake.audit import trail as audit
from intake.context import AppContext
from intake.db import transaction
from intake.models import StaffSession, StaffUser, utcnow
from intake.staff.auth import Credentials, sign_in
from intake.staff.service import Staff
from intake.staff.tokens import MAX_TOKEN_CHARS, new_token

PURPOSE = "staff-session"
# last_seen_at is written at most this often, not on every request.
TOUCH_EVERY = timedelta(seconds=20)


@dataclass(frozen=True, repr=False)
class OpenedSession:
    cookie: str
    staff: Staff
    max_age: int

    def __repr__(self) -> str:
        return f"OpenedSession(role={self.staff.role!r})"


def session_hash(context: AppContext, cookie: str) -> bytes:
    return context.secret.keyed_hash(PURPOSE, cookie.encode("utf-8"))


def open_session(
    context: AppContext,
    credentials: Credentials,
    *,
    source: bytes | None = None,
    now: datetime | None = None,
) -> OpenedSession:
    """A new web session, or Unauthorized (401) / TooManyRequests (429) as for tokens."""
    now = now or utcnow()
    ttl = timedelta(minutes=context.settings.token_ttl_minutes)
    cookie = new_token()
    opened: list[Staff] = []

    def mint(session: Session, user: StaffUser, totp: bool) -> None:
        session.add(
            StaffSession(
                user_id=user.id,
                token_hash=session_hash(context, cookie),
                created_at=now,
                last_seen_at=now,
                expires_at=now + ttl,
            )
        )
        audit.append(
            session, actor=user.username, action="auth.session_opened", detail={"totp": totp}
        )
        opened.append(staff_of(user))

    sign_in(context, credentials, mint=mint, now=now, source=source)
    return OpenedSession(cookie=cookie, staff=opened[0], max_age=int(ttl.total_seconds()))


def staff_for_session(
    context: AppContext, cookie: str | None, *, now: datetime | None = None
) -> Staff | None:
    """The account of a live session, its idle clock restarted; None when it has ended."""
    if not cookie or len(cookie) > MAX_TOKEN_CHARS:
        return None
    now = now or utcnow()
    idle = timedelta(minutes=context.settings.staff_idle_minutes)
    with transaction(context.sessions) as session:
        row = session.execute(
            select(StaffSession, StaffUser)
            .join(StaffUser, StaffSession.user_id == StaffUser.id)
            .where(StaffSession.token_hash == session_hash(context, cookie))
        ).first()
        if row is None:
            return None
        stored, user = row
        if not _live(stored, user, now=now, idle=idle):
            return None
        if now - stored.last_seen_at >= TOUCH_EVERY:
            stored.last_seen_at = now
        return staff_of(user)


def _live(stored: StaffSession, user: StaffUser, *, now: datetime, idle: timedelta) -> bool:
    return (
        stored.ended_at is None
        and stored.expires_at > now
        and now - stored.last_seen_at < idle
        and not user.disabled
    )


def end_session(context: AppContext, cookie: str, *, now: datetime | None = None) -> None:
    """Sign-out: this session only (the account's API tokens and other sessions live on)."""
    if len(cookie) > MAX_TOKEN_CHARS:
        return
    with transaction(context.sessions) as session:
        session.execute(
            update(StaffSession)
            .where(
                StaffSession.token_hash == session_hash(context, cookie),
                StaffSession.ended_at.is_(None),
            )
            .values(ended_at=now or utcnow())
        )


def staff_of(user: StaffUser) -> Staff:
    return Staff(
        user_id=user.id,
        username=user.username,
        role=user.role,
        focal_point_id=user.focal_point_id,
        country=user.country,
    )
