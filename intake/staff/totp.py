"""TOTP (RFC 6238, via pyotp) for staff accounts that enrolled.

The shared secret is sealed with the server's draft key (the secret file), so
a copy of the database alone cannot mint codes. A code is accepted for the
current 30-second step or one step either side (clock drift), and each step
only once: `totp_last_step` remembers the last one used.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime

import pyotp

from crypto.secretbox import DraftError, open_draft, seal_draft
from crypto.server_secret import ServerSecret

ISSUER = "psea-intake"
DRIFT_STEPS = 1


@dataclass(frozen=True, repr=False)
class Enrolment:
    uri: str  # otpauth:// URI holding the secret: shown once, never logged
    sealed: bytes

    def __repr__(self) -> str:
        return "Enrolment(<hidden>)"


def enrol(secret: ServerSecret, username: str) -> Enrolment:
    shared = pyotp.random_base32()
    uri = pyotp.TOTP(shared).provisioning_uri(name=username, issuer_name=ISSUER)
    return Enrolment(uri=uri, sealed=seal_draft(secret, shared.encode("ascii")))


def matching_step(
    secret: ServerSecret, sealed: bytes, code: str, *, now: datetime, last_step: int | None
) -> int | None:
    """The time step `code` belongs to, or None when wrong, stale or already used."""
    try:
        shared = open_draft(secret, sealed).decode("ascii")
    except (DraftError, UnicodeDecodeError):
        return None
    totp = pyotp.TOTP(shared)
    current = totp.timecode(now)
    candidate = "".join(code.split())
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), candidate):
            if last_step is not None and step <= last_step:
                return None  # replay of a code (or an older one) already used
            return step
    return None
