"""Staff passwords: Argon2id strings from libsodium (`nacl.pwhash.argon2id`).

The cost is a parameter (`KdfCost`) so tests pass a cheap one explicitly;
accounts made by `intake users add` use libsodium's INTERACTIVE limits. The
cost travels inside each stored string, so verification needs no setting.
"""

from __future__ import annotations

import re
import secrets
import threading

import nacl.exceptions
import nacl.pwhash.argon2id as _argon2id

from crypto.errors import CryptoError
from crypto.kdf import KdfCost
from crypto.text import utf8_or_none

# libsodium INTERACTIVE: about 80 ms and 64 MiB on the machines we measured.
STAFF_PASSWORD_COST = KdfCost(
    opslimit=_argon2id.OPSLIMIT_INTERACTIVE, memlimit=_argon2id.MEMLIMIT_INTERACTIVE
)
_PARAMS = re.compile(r"^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=1\$")
_dummies: dict[KdfCost, str] = {}
_dummies_lock = threading.Lock()


def hash_password(password: str, *, cost: KdfCost = STAFF_PASSWORD_COST) -> str:
    secret = utf8_or_none(password)
    if secret is None:
        raise CryptoError("password is not valid Unicode")
    encoded: bytes = _argon2id.str(secret, opslimit=cost.opslimit, memlimit=cost.memlimit)
    return encoded.decode("ascii")


def verify_password(stored: str, password: str) -> bool:
    """True when `password` matches; False for a wrong password or a damaged hash."""
    secret = utf8_or_none(password)
    if secret is None or not stored.isascii():
        return False
    try:
        return bool(_argon2id.verify(stored.encode("ascii"), secret))
    except (nacl.exceptions.CryptoError, ValueError):
        return False


def cost_of(stored: str) -> KdfCost | None:
    """The Argon2id cost a stored string was made with (None when unreadable)."""
    match = _PARAMS.match(stored)
    if match is None:
        return None
    try:
        return KdfCost(opslimit=int(match.group(2)), memlimit=int(match.group(1)) * 1024)
    except CryptoError:
        return None


def spend_like(stored: str | None, password: str) -> None:
    """Verify against a throw-away hash of the same cost as `stored` (an account's).

    Answering an unknown username as slowly as a wrong password keeps the
    token endpoint from telling which accounts exist.
    """
    cost = (cost_of(stored) if stored else None) or STAFF_PASSWORD_COST
    with _dummies_lock:
        dummy = _dummies.get(cost)
    if dummy is None:
        dummy = hash_password(secrets.token_urlsafe(16), cost=cost)
        with _dummies_lock:
            _dummies.setdefault(cost, dummy)
    verify_password(dummy, password)
