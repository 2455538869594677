"""Signing in and resolving bearer tokens.

Lockout: after `LOCK_AFTER` wrong attempts in a row an account is locked for
`LOCK_FOR`; attempts while locked get 429 with `Retry-After` (the password is
not even checked), and a successful sign-in resets the count. Unknown
usernames are counted the same way (a keyed hash of the name, in the shared
rate counters) and answered as slowly as a wrong password, so neither the
answer nor its timing says which accounts exist. Failed sign-ins are also
counted per client address (INTAKE_SIGNIN_LIMIT, SPEC 15). Password checks
run in their own bounded pool (`AppContext.passwords`), never in the receipt
KDF's slots.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NoReturn

from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto.passwords import spend_like, verify_password
from intake import ratelimit
from intake.audit import trail as audit
from intake.context import AppContext
from intake.db import transaction
from intake.errors import IntakeError, TooManyRequests, Unauthorized
from intake.models import StaffToken, StaffUser, utcnow
from intake.settings import RateLimit
from intake.staff.service import Staff
from intake.staff.tokens import MAX_TOKEN_CHARS, new_token, token_hash
from intake.staff.totp import matching_step

log = logging.getLogger("intake.staff")
LOCK_AFTER = 5
LOCK_FOR = timedelta(minutes=15)
UNKNOWN_SCOPE = "login-unknown"
UNKNOWN_LIMIT = RateLimit(LOCK_AFTER, int(LOCK_FOR.total_seconds()))
BAD_CREDENTIALS = "The username, password or one-time code is wrong."
LOCKED = "Too many failed sign-ins: this account is locked for a while. Try again later."
SOURCE_SCOPE = "signin-source"  # INTAKE_SIGNIN_LIMIT: failed sign-ins per client address
TOO_MANY_FROM_HERE = "Too many failed sign-ins from this address. Try again later."


@dataclass(frozen=True, repr=False)
class Credentials:
    username: str
    password: str
    otp: str | None = None

    def __repr__(self) -> str:
        return "Credentials(<hidden>)"


@dataclass(frozen=True, repr=False)
class IssuedToken:
    access_token: str
    expires_in: int

    def __repr__(self) -> str:
        return f"IssuedToken(expires_in={self.expires_in})"


@dataclass(frozen=True, repr=False)
class _Account:
    user_id: int
    password_hash: str
    totp_sealed: bytes | None
    totp_last_step: int | None
    locked_until: datetime | None
    disabled: bool


# Adds the new credential's row for `user` inside the sign-in's transaction;
# the bool says whether a one-time code was checked.
Mint = Callable[[Session, StaffUser, bool], None]


def issue_token(
    context: AppContext,
    credentials: Credentials,
    *,
    source: bytes | None = None,
    now: datetime | None = None,
) -> IssuedToken:
    """A new bearer token, or Unauthorized (401) / TooManyRequests (429).

    Every sign-in (the token endpoint, the staff and console sign-in pages)
    comes here. `source` is the keyed hash of the client's address
    (`intake.http.deps.client_source`): its failed attempts are limited by
    INTAKE_SIGNIN_LIMIT besides the account's own lockout; over the limit the
    password is not even checked.
    """
    now = now or utcnow()
    ttl = timedelta(minutes=context.settings.token_ttl_minutes)
    token = new_token()

    def mint(session: Session, user: StaffUser, totp: bool) -> None:
        session.add(
            StaffToken(
                user_id=user.id,
                token_hash=token_hash(context.secret, token),
                created_at=now,
                expires_at=now + ttl,
            )
        )
        audit.append(
            session,
            actor=user.username,
            action="auth.token_issued",
            detail={"expires_in": int(ttl.total_seconds()), "totp": totp},
        )

    sign_in(context, credentials, mint=mint, now=now, source=source)
    return IssuedToken(access_token=token, expires_in=int(ttl.total_seconds()))


def sign_in(
    context: AppContext,
    credentials: Credentials,
    *,
    mint: Mint,
    now: datetime,
    source: bytes | None = None,
) -> None:
    """Check the credentials under the source limit, the lockout and TOTP, then `mint`.

    One path for bearer tokens and web sessions: Unauthorized (401) for a
    wrong username, password or code, TooManyRequests (429) while locked or
    while `source` (the client's keyed address) is over INTAKE_SIGNIN_LIMIT,
    in which case the password is not even checked.
    """
    limit = context.settings.signin_rate
    if source is not None and limit.enabled:
        with context.sessions() as session:
            if ratelimit.is_over(session, SOURCE_SCOPE, source, limit, now):
                raise TooManyRequests(ratelimit.retry_after(limit, now), TOO_MANY_FROM_HERE)
    try:
        _check_and_mint(context, credentials, mint=mint, now=now)
    except Unauthorized:
        if source is not None and limit.enabled:
            with transaction(context.sessions) as session:
                ratelimit.record(session, SOURCE_SCOPE, source, limit, now)
        raise


def _check_and_mint(
    context: AppContext, credentials: Credentials, *, mint: Mint, now: datetime
) -> None:
    account, sample_hash = _load(context, credentials.username)
    if account is None:
        raise _refusal_unknown(context, credentials, sample_hash, now)
    if account.locked_until is not None and account.locked_until > now:
        raise TooManyRequests(_seconds(account.locked_until - now), LOCKED)
    stored_hash = account.password_hash
    verified = context.passwords.run(lambda: verify_password(stored_hash, credentials.password))
    step = None
    if verified and account.totp_sealed is not None:
        step = matching_step(
            context.secret,
            account.totp_sealed,
            credentials.otp or "",
            now=now,
            last_step=account.totp_last_step,
        )
        verified = step is not None
    if not verified or account.disabled:
        _refuse_known(context, account.user_id, now)
    _grant(context, account.user_id, step, now, mint)


def _load(context: AppContext, username: str) -> tuple[_Account | None, str | None]:
    with context.sessions() as session:
        user = session.scalars(select(StaffUser).where(StaffUser.username == username)).first()
        if user is None:
            # Any account's hash tells the cost a wrong password would have cost.
            return None, session.scalars(select(StaffUser.password_hash).limit(1)).first()
        return _Account(
            user_id=user.id,
            password_hash=user.password_hash,
            totp_sealed=user.totp_sealed,
            totp_last_step=user.totp_last_step,
            locked_until=user.locked_until,
            disabled=user.disabled,
        ), None


def _refusal_unknown(
    context: AppContext, credentials: Credentials, sample_hash: str | None, now: datetime
) -> IntakeError:
    """Count and answer a sign-in as an unknown user like a known account's failure."""
    source = ratelimit.source_key(context.secret, "login:" + credentials.username)
    with context.sessions() as session:
        if ratelimit.is_over(session, UNKNOWN_SCOPE, source, UNKNOWN_LIMIT, now):
            return TooManyRequests(ratelimit.retry_after(UNKNOWN_LIMIT, now), LOCKED)
    context.passwords.run(lambda: spend_like(sample_hash, credentials.password))
    with transaction(context.sessions) as session:
        ratelimit.record(session, UNKNOWN_SCOPE, source, UNKNOWN_LIMIT, now)
        # The typed name is not recorded: people type passwords into that field.
        audit.append(session, actor="-", action="auth.failed", detail={"known": False})
    return Unauthorized(BAD_CREDENTIALS)


def _refuse_known(context: AppContext, user_id: int, now: datetime) -> NoReturn:
    with transaction(context.sessions) as session:
        user = session.get(StaffUser, user_id, with_for_update=True)
        assert user is not None  # noqa: S101 - accounts are never deleted
        user.failed_logins += 1
        locked = user.failed_logins >= LOCK_AFTER
        if locked:
            user.failed_logins = 0
            user.locked_until = now + LOCK_FOR
        audit.append(session, actor=user.username, action="auth.failed", detail={"locked": locked})
        username = user.username
    if locked:
        log.warning("staff account locked", extra={"username": username})
    raise Unauthorized(BAD_CREDENTIALS)


def _grant(context: AppContext, user_id: int, step: int | None, now: datetime, mint: Mint) -> None:
    with transaction(context.sessions) as session:
        user = session.get(StaffUser, user_id, with_for_update=True)
        assert user is not None  # noqa: S101 - accounts are never deleted
        if user.locked_until is not None and user.locked_until > now:
            raise TooManyRequests(_seconds(user.locked_until - now), LOCKED)
        if step is not None:
            if user.totp_last_step is not None and step <= user.totp_last_step:
                raise Unauthorized(BAD_CREDENTIALS)  # the same code, used concurrently
            user.totp_last_step = step
        user.failed_logins = 0
        user.locked_until = None
        mint(session, user, step is not None)


def staff_for_token(
    context: AppContext, token: str, *, now: datetime | None = None
) -> Staff | None:
    """The account a live token belongs to; None when unknown, expired or revoked."""
    if not token or len(token) > MAX_TOKEN_CHARS:
        return None
    now = now or utcnow()
    with context.sessions() as session:
        row = session.execute(
            select(StaffToken, StaffUser)
            .join(StaffUser, StaffToken.user_id == StaffUser.id)
            .where(StaffToken.token_hash == token_hash(context.secret, token))
        ).first()
    if row is None:
        return None
    stored, user = row
    if stored.revoked_at is not None or stored.expires_at <= now or user.disabled:
        return None
    return Staff(
        user_id=user.id,
        username=user.username,
        role=user.role,
        focal_point_id=user.focal_point_id,
        country=user.country,
    )


def _seconds(delta: timedelta) -> int:
    return max(1, int(delta.total_seconds()) + 1)
