"""Receipts (SPEC section 8): 16 random digits, stored nowhere.

One Argon2id run over the normalised digits (salt: the system-wide salt)
gives `k`; keyed BLAKE2b with the server secret over `k` gives the stored
lookup value (personalisation `lookup`) and the seed of the receipt key pair
(personalisation `reporter`). A database copy alone therefore reveals no
receipt and opens no message sealed to the reporter.
"""

from __future__ import annotations

import secrets
import unicodedata
from dataclasses import dataclass

import nacl.bindings as sodium
import nacl.exceptions

from crypto.envelope import KEY_BYTES, b64d, b64e, kid_of
from crypto.errors import CryptoError, EnvelopeError
from crypto.kdf import KdfCost, argon2id, keyed_hash
from crypto.keys import KeyPair, keypair_from_seed
from crypto.text import text_or_none, utf8_or_none

RECEIPT_DIGITS = 16
LOOKUP_BYTES = 32
MIN_SERVER_SECRET_BYTES = 16
_GROUP = 4
_MAX_INPUT_CHARS = 200  # typed input longer than this is not a receipt; skip the work
# Separators people type or paste between groups, besides Unicode spaces and
# dash punctuation: the minus sign and the zero-width characters.
_EXTRA_SEPARATORS = frozenset("\u2212\u200b\u200c\u200d\u2060\ufeff")
_SEALBYTES: int = sodium.crypto_box_SEALBYTES


def new_receipt() -> str:
    """16 decimal digits from the CSPRNG, uniformly distributed."""
    return f"{secrets.randbelow(10**RECEIPT_DIGITS):0{RECEIPT_DIGITS}d}"


def format_receipt(digits: str) -> str:
    """Four groups of four digits separated by single spaces."""
    normal = normalize_receipt(digits)
    if normal is None:
        raise CryptoError("not a receipt")
    return " ".join(normal[i : i + _GROUP] for i in range(0, RECEIPT_DIGITS, _GROUP))


def normalize_receipt(text: str) -> str | None:
    """The 16 ASCII digits of a typed receipt, or None when it is not one.

    Any Unicode space (incl. no-break spaces), dash, minus sign or zero-width
    character is ignored. Decimal digits of other scripts (Arabic-Indic,
    Persian, Devanagari, full-width, ...) count as their ASCII digit, since
    phone keyboards in shipped languages type them.
    """
    if not isinstance(text, str) or len(text) > _MAX_INPUT_CHARS:
        return None
    digits: list[str] = []
    for char in text:
        if char.isspace() or char in _EXTRA_SEPARATORS or unicodedata.category(char) == "Pd":
            continue
        if unicodedata.category(char) != "Nd":
            return None
        digits.append(str(unicodedata.decimal(char)))
    return "".join(digits) if len(digits) == RECEIPT_DIGITS else None


@dataclass(frozen=True, repr=False)
class ReceiptKeys:
    """What a receipt yields: the stored lookup value and the reporter's key pair."""

    lookup: bytes
    keypair: KeyPair

    def __post_init__(self) -> None:
        if not isinstance(self.lookup, bytes) or len(self.lookup) != LOOKUP_BYTES:
            raise CryptoError(f"lookup must be {LOOKUP_BYTES} bytes")
        if not isinstance(self.keypair, KeyPair):
            raise CryptoError("keypair must be a KeyPair")

    def __repr__(self) -> str:
        return "ReceiptKeys(<hidden>)"


def derive_receipt_keys(
    receipt: str, *, salt: bytes, server_secret: bytes, cost: KdfCost
) -> ReceiptKeys:
    """The single Argon2id run of SPEC section 8 and the two keyed hashes over its output.

    `receipt` may be typed input (it is normalised first). `salt` is the
    system-wide salt, exactly 16 bytes. `server_secret` must be at least 16
    bytes; one longer than 64 bytes is reduced as `kdf.keyed_hash` describes.
    """
    digits = normalize_receipt(receipt)
    if digits is None:
        raise CryptoError("not a receipt")
    if not isinstance(server_secret, bytes) or len(server_secret) < MIN_SERVER_SECRET_BYTES:
        raise CryptoError(f"server secret must be at least {MIN_SERVER_SECRET_BYTES} bytes")
    k = argon2id(digits.encode("ascii"), salt=salt, cost=cost, size=32)
    lookup = keyed_hash(k, key=server_secret, person=b"lookup", size=LOOKUP_BYTES)
    seed = keyed_hash(k, key=server_secret, person=b"reporter", size=KEY_BYTES)
    return ReceiptKeys(lookup=lookup, keypair=keypair_from_seed(seed))


def seal_to_public_key(text: str, public_key: bytes) -> str:
    """Seal a message (crypto_box_seal) to a reporter's public key; base64."""
    kid_of(public_key)  # validates the key length
    if not isinstance(text, str):
        raise CryptoError("message must be a string")
    encoded = utf8_or_none(text)
    if encoded is None:
        raise CryptoError("message is not valid Unicode")
    return b64e(sodium.crypto_box_seal(encoded, public_key))


def open_with_keypair(sealed_b64: str, keypair: KeyPair) -> str:
    """Open a message sealed by `seal_to_public_key`; EnvelopeError on any failure."""
    try:
        sealed = b64d(sealed_b64)
    except CryptoError:
        raise EnvelopeError("sealed message is malformed") from None
    if len(sealed) < _SEALBYTES:
        raise EnvelopeError("sealed message is malformed")
    try:
        plain: bytes = sodium.crypto_box_seal_open(sealed, keypair.public_key, keypair.private_key)
    except nacl.exceptions.CryptoError:
        raise EnvelopeError("sealed message does not open with this key") from None
    text = text_or_none(plain)
    if text is None:
        raise EnvelopeError("sealed message is not UTF-8")
    return text
