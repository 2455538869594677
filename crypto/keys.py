"""X25519 key pairs and passphrase-protected private key files.

A private key file is one JSON object (base64 standard with padding)::

    {"v": 1, "kdf": "argon2id", "opslimit": int, "memlimit": int,
     "salt": 16 bytes, "nonce": 24 bytes, "box": 48 bytes,
     "public_key": 32 bytes, "kid": hex}

`box` is libsodium crypto_secretbox (XSalsa20-Poly1305) of the raw private
key under Argon2id(passphrase UTF-8, salt, opslimit, memlimit). The file is
created with mode 0600 from the first moment and never overwritten.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import nacl.bindings as sodium
import nacl.exceptions
import nacl.utils

from crypto.envelope import KEY_BYTES, b64d, b64e, kid_of
from crypto.errors import CryptoError, KeyFileError
from crypto.kdf import KEYFILE_COST, SALT_BYTES, KdfCost, argon2id
from crypto.text import text_or_none, utf8_or_none

KEYFILE_VERSION = 1
_BOX_NONCE_BYTES: int = sodium.crypto_secretbox_NONCEBYTES  # 24
_BOX_BYTES: int = KEY_BYTES + sodium.crypto_secretbox_MACBYTES  # 32 + 16
_MAX_FILE_BYTES = 64 * 1024  # both file kinds are tiny; refuse to slurp anything big
_WRONG_PASSPHRASE = "wrong passphrase or damaged key file"  # noqa: S105 -- a message


@dataclass(frozen=True, repr=False)
class KeyPair:
    """An X25519 key pair (raw 32-byte keys); its repr shows only the key id."""

    public_key: bytes
    private_key: bytes

    def __post_init__(self) -> None:
        for key in (self.public_key, self.private_key):
            if not isinstance(key, bytes) or len(key) != KEY_BYTES:
                raise CryptoError(f"keys must be {KEY_BYTES} bytes")
        if sodium.crypto_scalarmult_base(self.private_key) != self.public_key:
            raise CryptoError("public key does not belong to the private key")

    @property
    def kid(self) -> str:
        return kid_of(self.public_key)

    def __repr__(self) -> str:
        return f"KeyPair(kid={self.kid!r})"


def generate_keypair() -> KeyPair:
    public_key, private_key = sodium.crypto_box_keypair()
    return KeyPair(public_key=public_key, private_key=private_key)


def keypair_from_seed(seed: bytes) -> KeyPair:
    """Deterministic X25519 key pair (libsodium crypto_box_seed_keypair) from 32 bytes."""
    if not isinstance(seed, bytes) or len(seed) != KEY_BYTES:
        raise CryptoError(f"seed must be {KEY_BYTES} bytes")
    public_key, private_key = sodium.crypto_box_seed_keypair(seed)
    return KeyPair(public_key=public_key, private_key=private_key)


# Curve25519: the field prime, the order of the prime subgroup, (A - 2) / 4 for the ladder.
_P = 2**255 - 19
_L = 2**252 + 27742317777372353535851937790883648493
_A = 486662
_A24 = 121665
_PROBE_SCALAR = bytes(range(1, 33))


def is_full_order_public_key(pk: bytes) -> bool:
    """True for a canonical X25519 public key in the prime-order subgroup.

    Every key X25519 makes (a clamped scalar times the base point) is one. Refused:
    anything not 32 bytes, a non-canonical encoding (u >= p, the top bit set), a
    point on the twist instead of the curve, and every point of small or mixed
    order: the all-zero key and the other small-order points that libsodium
    blacklists give an all-zero shared secret (caught by a real scalar
    multiplication), and [L]P must be the point at infinity.
    """
    if not isinstance(pk, bytes) or len(pk) != KEY_BYTES:
        return False
    u = int.from_bytes(pk, "little")
    if u >= _P or not _on_curve(u):
        return False
    try:
        shared = sodium.crypto_scalarmult(_PROBE_SCALAR, pk)
    except (nacl.exceptions.CryptoError, RuntimeError):
        return False  # libsodium refuses small-order points (all-zero output)
    if shared == bytes(KEY_BYTES):
        return False
    return _ladder_z(u, _L) == 0


def _on_curve(u: int) -> bool:
    """v^2 = u^3 + A u^2 + u has a solution in the field (Euler's criterion)."""
    rhs = (u * u * u + _A * u * u + u) % _P
    return rhs == 0 or pow(rhs, (_P - 1) // 2, _P) == 1


def _ladder_z(u: int, k: int) -> int:
    """Z of [k]P in projective x-only coordinates (RFC 7748 ladder, no clamping)."""
    x2, z2, x3, z3, swap = 1, 0, u, 1, 0
    for bit in reversed(range(k.bit_length())):
        k_t = (k >> bit) & 1
        if swap ^ k_t:
            x2, x3, z2, z3 = x3, x2, z3, z2
        swap = k_t
        a, b, c, d = x2 + z2, x2 - z2, x3 + z3, x3 - z3
        aa, bb, da, cb = a * a % _P, b * b % _P, d * a % _P, c * b % _P
        e = (aa - bb) % _P
        x3, z3 = (da + cb) ** 2 % _P, u * (da - cb) ** 2 % _P
        x2, z2 = aa * bb % _P, e * (aa + _A24 * e) % _P
    if swap:
        z2 = z3
    return z2


def public_key_b64(pk: bytes) -> str:
    """A public key as it travels (SPEC section 5): base64 of the raw 32 bytes."""
    kid_of(pk)  # validates the length
    return b64e(pk)


def write_private_key_file(
    path: Path, keypair: KeyPair, passphrase: str, *, cost: KdfCost = KEYFILE_COST
) -> None:
    """Write `keypair` protected by `passphrase`; never overwrites, mode 0600."""
    if not isinstance(keypair, KeyPair):
        raise CryptoError("keypair must be a KeyPair")
    if os.path.lexists(path):  # fail fast, before the slow KDF; O_EXCL still decides
        raise KeyFileError(f"refusing to overwrite existing file {path}")
    salt = nacl.utils.random(SALT_BYTES)
    nonce = nacl.utils.random(_BOX_NONCE_BYTES)
    # The slow KDF runs before the file exists, so it is never seen half-written.
    box_key = argon2id(_passphrase_bytes(passphrase), salt=salt, cost=cost)
    box: bytes = sodium.crypto_secretbox(keypair.private_key, nonce, box_key)
    document = {
        "v": KEYFILE_VERSION,
        "kdf": "argon2id",
        "opslimit": cost.opslimit,
        "memlimit": cost.memlimit,
        "salt": b64e(salt),
        "nonce": b64e(nonce),
        "box": b64e(box),
        "public_key": b64e(keypair.public_key),
        "kid": keypair.kid,
    }
    _create_private_file(path, json.dumps(document) + "\n")


def read_private_key_file(path: Path, passphrase: str) -> KeyPair:
    """Open a key file written by `write_private_key_file`."""
    fields = _load_key_document(path)
    secret = _passphrase_bytes(passphrase)
    try:
        box_key = argon2id(secret, salt=fields.salt, cost=fields.cost)
    except CryptoError:  # e.g. a memlimit this machine cannot give
        raise KeyFileError(f"cannot derive the key of key file {path}") from None
    try:
        private_key: bytes = sodium.crypto_secretbox_open(fields.box, fields.nonce, box_key)
    except nacl.exceptions.CryptoError:
        raise KeyFileError(_WRONG_PASSPHRASE) from None
    if sodium.crypto_scalarmult_base(private_key) != fields.public_key:
        raise KeyFileError(_WRONG_PASSPHRASE)
    return KeyPair(public_key=fields.public_key, private_key=private_key)


def read_passphrase_file(path: Path) -> str:
    """UTF-8 text with exactly one trailing "\\n" or "\\r\\n" removed; never empty."""
    data = _read_small(path, "passphrase file")
    text = text_or_none(data)
    if text is None:
        raise KeyFileError(f"passphrase file {path} is not UTF-8")
    if text.endswith("\r\n"):
        text = text[:-2]
    elif text.endswith("\n"):
        text = text[:-1]
    if not text:
        raise KeyFileError(f"passphrase file {path} is empty")
    return text


@dataclass(frozen=True, repr=False)
class _KeyFields:
    cost: KdfCost
    salt: bytes
    nonce: bytes
    box: bytes
    public_key: bytes


def _load_key_document(path: Path) -> _KeyFields:
    document = _parse_json(_read_small(path, "key file"))
    if (
        not isinstance(document, dict)
        or document.get("v") != KEYFILE_VERSION
        or type(document.get("v")) is not int
        or document.get("kdf") != "argon2id"
    ):
        raise _malformed(path)
    try:
        fields = _KeyFields(
            cost=KdfCost(opslimit=document["opslimit"], memlimit=document["memlimit"]),
            salt=b64d(document["salt"], length=SALT_BYTES),
            nonce=b64d(document["nonce"], length=_BOX_NONCE_BYTES),
            box=b64d(document["box"], length=_BOX_BYTES),
            public_key=b64d(document["public_key"], length=KEY_BYTES),
        )
    except (KeyError, CryptoError):
        raise _malformed(path) from None
    if document.get("kid") != kid_of(fields.public_key):
        raise _malformed(path)
    return fields


def _malformed(path: Path) -> KeyFileError:
    return KeyFileError(f"malformed key file {path}")


def _create_private_file(path: Path, text: str) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        raise KeyFileError(f"refusing to overwrite existing file {path}") from None
    except OSError as exc:
        raise KeyFileError(f"cannot create key file {path}: {exc.strerror}") from None
    try:
        os.fchmod(fd, 0o600)  # the umask may only remove bits; make the mode exact
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        path.unlink(missing_ok=True)
        raise KeyFileError(f"cannot write key file {path}: {exc.strerror}") from None


def _read_small(path: Path, what: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            data = handle.read(_MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise KeyFileError(f"cannot read {what} {path}: {exc.strerror}") from None
    if len(data) > _MAX_FILE_BYTES:
        raise KeyFileError(f"{what} {path} is too large")
    return data


def _passphrase_bytes(passphrase: str) -> bytes:
    if not isinstance(passphrase, str) or not passphrase:
        raise KeyFileError("passphrase must be a non-empty string")
    encoded = utf8_or_none(passphrase)
    if encoded is None:
        raise KeyFileError("passphrase is not valid Unicode")
    return encoded


def _parse_json(data: bytes) -> object:
    text = text_or_none(data)
    try:
        return None if text is None else json.loads(text)
    except ValueError:
        return None
