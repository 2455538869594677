"""Opaque bearer tokens: random, shown once, stored only as a keyed hash.

Why not JWTs: every request must see a revocation made by `intake users
revoke` on another process, so each request reads the database anyway; a
signed token would add a shared signing key to protect and rotate and buy
nothing. A keyed hash (server secret) means a database copy yields no usable
token, and a leaked token is worthless once revoked or expired.
"""

from __future__ import annotations

import secrets

from crypto.server_secret import ServerSecret

PURPOSE = "staff-token"
MAX_TOKEN_CHARS = 200


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(secret: ServerSecret, token: str) -> bytes:
    return secret.keyed_hash(PURPOSE, token.encode("utf-8"))
