"""Argon2id and keyed BLAKE2b, with costs passed in rather than fixed.

Costs are values (`KdfCost`) that callers pass explicitly, so tests use
`TEST_COST` through a fixture and production code can never pick it up by
accident at import time.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import nacl.exceptions
import nacl.pwhash.argon2id as _argon2id

from crypto.errors import CryptoError

SALT_BYTES: int = _argon2id.SALTBYTES  # 16, libsodium's crypto_pwhash_SALTBYTES
_BLAKE2B_KEY_MAX = 64
_BLAKE2B_PERSON_MAX = 16
_LONG_KEY_PERSON = b"intake:longkey"


@dataclass(frozen=True)
class KdfCost:
    """Argon2id cost: `opslimit` passes and `memlimit` bytes of memory."""

    opslimit: int
    memlimit: int

    def __post_init__(self) -> None:
        for value in (self.opslimit, self.memlimit):
            if type(value) is not int:
                raise CryptoError("KDF cost limits must be integers")
        if not _argon2id.OPSLIMIT_MIN <= self.opslimit <= _argon2id.OPSLIMIT_MAX:
            raise CryptoError("Argon2id opslimit is outside libsodium's range")
        if not _argon2id.MEMLIMIT_MIN <= self.memlimit <= _argon2id.MEMLIMIT_MAX:
            raise CryptoError("Argon2id memlimit is outside libsodium's range")

    def is_at_least(self, other: KdfCost) -> bool:
        """True when both limits are at least those of `other`."""
        return self.opslimit >= other.opslimit and self.memlimit >= other.memlimit


# SPEC section 8: t=2, m=19 MiB is the floor for receipts outside tests.
RECEIPT_COST = KdfCost(opslimit=2, memlimit=19 * 1024 * 1024)
# Private key files: libsodium's MODERATE limits (about 0.5 s and 256 MiB).
KEYFILE_COST = KdfCost(opslimit=_argon2id.OPSLIMIT_MODERATE, memlimit=_argon2id.MEMLIMIT_MODERATE)
# Tests only: libsodium's minimum limits (1 pass, 8 KiB), which offer no
# protection against guessing. Never use it outside tests; tests receive it
# through the `kdf_cost` fixture in tests/crypto/conftest.py.
TEST_COST = KdfCost(opslimit=_argon2id.OPSLIMIT_MIN, memlimit=_argon2id.MEMLIMIT_MIN)


def argon2id(secret: bytes, *, salt: bytes, cost: KdfCost, size: int = 32) -> bytes:
    """Argon2id (libsodium crypto_pwhash, ALG_ARGON2ID13) of `secret` into `size` bytes."""
    if not isinstance(secret, bytes) or not isinstance(salt, bytes):
        raise CryptoError("Argon2id takes bytes")
    if len(salt) != SALT_BYTES:
        raise CryptoError(f"Argon2id salt must be {SALT_BYTES} bytes")
    if not _argon2id.BYTES_MIN <= size <= _argon2id.BYTES_MAX:
        raise CryptoError("Argon2id output size is outside libsodium's range")
    try:
        out: bytes = _argon2id.kdf(
            size, secret, salt, opslimit=cost.opslimit, memlimit=cost.memlimit
        )
    except nacl.exceptions.CryptoError:
        # Only resource failures are left here (e.g. memory); no input is echoed.
        raise CryptoError("Argon2id failed") from None
    return out


def keyed_hash(data: bytes, *, key: bytes, person: bytes, size: int = 32) -> bytes:
    """Keyed BLAKE2b of `data` with a personalisation of at most 16 bytes.

    Equal to libsodium's crypto_generichash_blake2b_salt_personal with the
    same key and `person` (zero-padded to 16 bytes). BLAKE2b keys are at most
    64 bytes: a longer key is first reduced to 64 bytes with unkeyed BLAKE2b-512
    personalised `intake:longkey`, so every key byte still counts.
    """
    if not all(isinstance(value, bytes) for value in (data, key, person)):
        raise CryptoError("keyed hash takes bytes")
    if not key:
        raise CryptoError("keyed hash needs a non-empty key")
    if len(person) > _BLAKE2B_PERSON_MAX:
        raise CryptoError(f"BLAKE2b personalisation is at most {_BLAKE2B_PERSON_MAX} bytes")
    if not 1 <= size <= 64:
        raise CryptoError("BLAKE2b output size must be 1 to 64 bytes")
    if len(key) > _BLAKE2B_KEY_MAX:
        key = hashlib.blake2b(key, digest_size=64, person=_LONG_KEY_PERSON).digest()
    return hashlib.blake2b(data, digest_size=size, key=key, person=person).digest()
