"""Envelope version 1 (SPEC section 5): seal a JSON object to a set of X25519 keys.

A fresh 32-byte data key encrypts the UTF-8 JSON content with
XChaCha20-Poly1305 (IETF) under the case's associated data; the data key is
sealed with libsodium's crypto_box_seal to every recipient. Opening checks the
structure first, then authenticates everything it uses, so any tampering
surfaces as one `EnvelopeError` and never as garbage content.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import cast

import nacl.bindings as sodium
import nacl.exceptions
import nacl.utils

from crypto.errors import CryptoError, EnvelopeError
from crypto.text import utf8_or_none

ENVELOPE_VERSION = 1
AEAD_NAME = "xchacha20poly1305-ietf"
KEY_BYTES = 32  # X25519 public and private keys, and the data key
NONCE_BYTES: int = sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES  # 24
TAG_BYTES: int = sodium.crypto_aead_xchacha20poly1305_ietf_ABYTES  # 16
SEALED_KEY_BYTES: int = KEY_BYTES + sodium.crypto_box_SEALBYTES  # 32 + 48
KID_HEX_CHARS = 32
AAD_PREFIX = b"intake:v1:"

_FIELDS = frozenset({"v", "aead", "nonce", "ct", "recipients"})
_ENTRY_FIELDS = frozenset({"kid", "sealed_key"})
_HEX = frozenset("0123456789abcdef")
# The one message for every authentication failure: which check failed is
# nobody's business but an attacker's.
_NOT_OPENED = "envelope does not open with this key and case reference"

# Indirection so the published test vector can pin the data key and nonce.
_random_bytes = nacl.utils.random


def b64e(data: bytes) -> str:
    """Standard base64 with padding."""
    return base64.b64encode(data).decode("ascii")


def b64d(text: str, *, length: int | None = None) -> bytes:
    """Decode canonical standard padded base64; CryptoError (never ValueError) otherwise."""
    if not isinstance(text, str) or not text.isascii():
        raise CryptoError("malformed base64")
    try:
        data = base64.b64decode(text, validate=True)
    except binascii.Error:
        raise CryptoError("malformed base64") from None
    # Stray low bits before the padding would let one value travel as several
    # strings; only the last, padded group can carry them, so check just that.
    tail = len(data) % 3
    if tail and b64e(data[-tail:]) != text[-4:]:
        raise CryptoError("malformed base64")
    if length is not None and len(data) != length:
        raise CryptoError(f"expected {length} bytes")
    return data


def case_aad(case_ref: str) -> bytes:
    """The associated data of a case: b"intake:v1:" + the UTF-8 case_ref."""
    if not isinstance(case_ref, str) or not case_ref:
        raise CryptoError("case_ref must be a non-empty string")
    encoded = utf8_or_none(case_ref)
    if encoded is None:
        raise CryptoError("case_ref is not valid Unicode")
    return AAD_PREFIX + encoded


def kid_of(public_key: bytes) -> str:
    """Key id: hex of BLAKE2b with a 16-byte digest over the raw public key."""
    _check_key(public_key, "public key")
    return hashlib.blake2b(public_key, digest_size=16).hexdigest()


def encode_content(content: Mapping[str, object]) -> bytes:
    """The exact plaintext that `seal` encrypts: compact UTF-8 JSON, keys in given order."""
    if not isinstance(content, Mapping) or not all(isinstance(k, str) for k in content):
        raise CryptoError("content must be a mapping with string keys")
    try:
        text = json.dumps(dict(content), ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        text = None  # raised below, outside the handler: no plaintext in __context__
    encoded = None if text is None else utf8_or_none(text)
    if encoded is None:
        raise CryptoError("content is not serialisable as UTF-8 JSON")
    return encoded


def seal(
    content: Mapping[str, object], *, public_keys: Sequence[bytes], aad: bytes
) -> dict[str, object]:
    """Seal `content` to every key in `public_keys` (duplicates dropped, order kept).

    `public_keys` holds the recipients' and the escrow keys alike; `aad` is
    normally `case_aad(case_ref)`.
    """
    plaintext = encode_content(content)
    keys = _unique_keys(public_keys)
    _check_aad(aad)
    data_key = _random_bytes(KEY_BYTES)
    nonce = _random_bytes(NONCE_BYTES)
    ct = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, aad, nonce, data_key)
    return {
        "v": ENVELOPE_VERSION,
        "aead": AEAD_NAME,
        "nonce": b64e(nonce),
        "ct": b64e(ct),
        "recipients": [sealed_key_entry(data_key, pk) for pk in keys],
    }


def sealed_key_entry(data_key: bytes, public_key: bytes) -> dict[str, str]:
    """One recipient entry: the data key sealed (crypto_box_seal) to `public_key`."""
    _check_key(data_key, "data key")
    kid = kid_of(public_key)  # also checks the length
    try:
        sealed: bytes = sodium.crypto_box_seal(data_key, public_key)
    except nacl.exceptions.RuntimeError:  # libsodium refuses low-order points
        raise CryptoError("public key is not a usable X25519 key") from None
    return {"kid": kid, "sealed_key": b64e(sealed)}


def open_envelope(
    envelope: Mapping[str, object], *, private_key: bytes, aad: bytes
) -> dict[str, object]:
    """Open an envelope with a recipient's private key; EnvelopeError on any problem."""
    _check_aad(aad)
    parsed = _parse(envelope)
    return _decrypt_content(parsed, _open_data_key(parsed, private_key), aad)


def add_recipient(
    envelope: Mapping[str, object],
    *,
    private_key: bytes,
    new_public_key: bytes,
    aad: bytes | None = None,
) -> dict[str, object]:
    """Return a copy of `envelope` that `new_public_key` can also open.

    Runs on a focal point's own device: the data key is opened with their
    `private_key` and sealed to the new key. With `aad`, the data key is first
    proven to open this envelope's content, so a doctored entry (a data key of
    another case) is never forwarded. A key that is already a recipient leaves
    the envelope unchanged.
    """
    new_kid = kid_of(new_public_key)  # also checks the key
    parsed = _parse(envelope)
    data_key = _open_data_key(parsed, private_key)
    if aad is not None:
        _check_aad(aad)
        _decrypt_content(parsed, data_key, aad)
    # _parse checked that recipients is a list of {kid, sealed_key} string maps.
    recipients = [dict(entry) for entry in cast(list[Mapping[str, str]], envelope["recipients"])]
    if new_kid not in parsed.sealed_keys:
        recipients.append(sealed_key_entry(data_key, new_public_key))
    return {**envelope, "recipients": recipients}


def validate_envelope_shape(envelope: object) -> None:
    """Check the structure of a v1 envelope without any key (server side)."""
    _parse(envelope)


@dataclass(frozen=True, repr=False)
class _Parsed:
    """An envelope after every structural check, its base64 fields decoded once."""

    nonce: bytes
    ct: bytes
    sealed_keys: dict[str, bytes]  # kid -> sealed data key, in envelope order


def _parse(envelope: object) -> _Parsed:
    if not isinstance(envelope, Mapping) or set(envelope) != _FIELDS:
        raise EnvelopeError("envelope must have exactly the fields v, aead, nonce, ct, recipients")
    version = envelope["v"]
    if type(version) is not int or version != ENVELOPE_VERSION:
        raise EnvelopeError("unsupported envelope version")
    if envelope["aead"] != AEAD_NAME:
        raise EnvelopeError("unsupported envelope aead")
    nonce = _field_bytes(envelope["nonce"], "nonce", length=NONCE_BYTES)
    ct = _field_bytes(envelope["ct"], "ct")
    if len(ct) < TAG_BYTES:
        raise EnvelopeError("envelope ct is too short")
    recipients = envelope["recipients"]
    if not isinstance(recipients, list) or not recipients:
        raise EnvelopeError("envelope recipients must be a non-empty list")
    sealed_keys: dict[str, bytes] = {}
    for entry in recipients:
        if not isinstance(entry, Mapping) or set(entry) != _ENTRY_FIELDS:
            raise EnvelopeError("each recipient must have exactly the fields kid, sealed_key")
        kid = entry["kid"]
        if not isinstance(kid, str) or len(kid) != KID_HEX_CHARS or not set(kid) <= _HEX:
            raise EnvelopeError("recipient kid must be 32 lower-case hex digits")
        if kid in sealed_keys:
            raise EnvelopeError("recipient kids must be unique")
        sealed_keys[kid] = _field_bytes(entry["sealed_key"], "sealed_key", length=SEALED_KEY_BYTES)
    return _Parsed(nonce=nonce, ct=ct, sealed_keys=sealed_keys)


def _open_data_key(parsed: _Parsed, private_key: bytes) -> bytes:
    _check_key(private_key, "private key")
    public_key: bytes = sodium.crypto_scalarmult_base(private_key)
    sealed = parsed.sealed_keys.get(kid_of(public_key))
    if sealed is None:
        raise EnvelopeError("envelope has no entry for this key")
    try:
        data_key: bytes = sodium.crypto_box_seal_open(sealed, public_key, private_key)
    except nacl.exceptions.CryptoError:
        raise EnvelopeError(_NOT_OPENED) from None
    if len(data_key) != KEY_BYTES:
        raise EnvelopeError(_NOT_OPENED)
    return data_key


def _decrypt_content(parsed: _Parsed, data_key: bytes, aad: bytes) -> dict[str, object]:
    try:
        plaintext: bytes = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
            parsed.ct, aad, parsed.nonce, data_key
        )
    except nacl.exceptions.CryptoError:
        raise EnvelopeError(_NOT_OPENED) from None
    content = _parse_json_object(plaintext)
    if content is None:
        raise EnvelopeError("envelope content is not a UTF-8 JSON object")
    return content


def _parse_json_object(plaintext: bytes) -> dict[str, object] | None:
    """Parse or return None; decode errors hold the plaintext, so none may escape."""
    try:
        value = json.loads(plaintext.decode("utf-8"), parse_constant=_reject_constant)
    except (ValueError, RecursionError):  # incl. UnicodeDecodeError, JSONDecodeError
        return None
    return value if isinstance(value, dict) else None


def _reject_constant(name: str) -> object:
    raise ValueError("NaN and Infinity are not JSON")


def _field_bytes(value: object, name: str, *, length: int | None = None) -> bytes:
    if not isinstance(value, str):
        raise EnvelopeError(f"envelope {name} must be a base64 string")
    try:
        return b64d(value, length=length)
    except CryptoError:
        raise EnvelopeError(f"envelope {name} is malformed") from None


def _unique_keys(public_keys: Sequence[bytes]) -> list[bytes]:
    if isinstance(public_keys, bytes | str):
        raise CryptoError("public_keys must be a sequence of keys")
    keys: list[bytes] = []
    for key in public_keys:
        _check_key(key, "public key")
        if key not in keys:
            keys.append(key)
    if not keys:
        raise CryptoError("at least one public key is required")
    return keys


def _check_key(key: object, what: str) -> None:
    if not isinstance(key, bytes) or len(key) != KEY_BYTES:
        raise CryptoError(f"{what} must be {KEY_BYTES} bytes")


def _check_aad(aad: object) -> None:
    if not isinstance(aad, bytes):
        raise CryptoError("associated data must be bytes")
