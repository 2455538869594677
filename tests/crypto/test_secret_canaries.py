"""Canaries: no private key, data key, passphrase or plaintext in a repr or an error.

Every exception is rendered the way a log line or a traceback would render
it, including chained exceptions, and searched for each secret in every form
it could take (raw repr, hex, base64).
"""

from __future__ import annotations

import base64
import copy
import functools
import json
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path

import nacl.bindings as raw
import pytest

from crypto.envelope import (
    add_recipient,
    b64d,
    b64e,
    case_aad,
    open_envelope,
    seal,
    sealed_key_entry,
)
from crypto.errors import CryptoError, EnvelopeError, KeyFileError
from crypto.kdf import KdfCost
from crypto.keys import KeyPair, read_passphrase_file, read_private_key_file, write_private_key_file
from crypto.receipt import derive_receipt_keys, open_with_keypair, seal_to_public_key

PLAINTEXT_CANARY = "CANARY-plaintext-7f3a9"
PASSPHRASE_CANARY = "CANARY-passphrase-51c2"
RECEIPT = "9035118872640017"
CASE_REF = "KE-2026-000777"
DATA_KEY = bytes.fromhex("d1" * 8 + "a7" * 8 + "3c" * 16)


def _forms(secret: bytes | str) -> list[str]:
    if isinstance(secret, str):
        return [secret, json.dumps(secret), repr(secret), repr(secret.encode())[2:-1]]
    return [
        secret.hex(),
        secret.hex().upper(),
        b64e(secret),
        base64.urlsafe_b64encode(secret).decode(),
        repr(secret)[2:-1],
    ]


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _rendered(exc: BaseException) -> str:
    parts = ["".join(traceback.format_exception(exc))]
    for link in _chain(exc):
        parts += [str(link), repr(link), repr(link.args)]
        # Decode errors carry the whole input; they must never be in the chain.
        for attribute in ("object", "doc"):
            parts.append(repr(getattr(link, attribute, "")))
    return "\n".join(parts)


def _assert_clean(text: str, *secrets: bytes | str) -> None:
    for secret in secrets:
        for form in _forms(secret):
            assert form not in text


def _raised(action: Callable[[], object]) -> CryptoError:
    with pytest.raises(CryptoError) as caught:
        action()
    return caught.value


def _envelope_with_known_data_key(keypair: KeyPair) -> dict[str, object]:
    """Built from primitives so the test knows the data key."""
    nonce = raw.randombytes(24)
    plaintext = json.dumps({"narrative": PLAINTEXT_CANARY}).encode()
    ct = raw.crypto_aead_xchacha20poly1305_ietf_encrypt(
        plaintext, case_aad(CASE_REF), nonce, DATA_KEY
    )
    return {
        "v": 1,
        "aead": "xchacha20poly1305-ietf",
        "nonce": b64e(nonce),
        "ct": b64e(ct),
        "recipients": [sealed_key_entry(DATA_KEY, keypair.public_key)],
    }


def _tamperings(envelope: dict[str, object]) -> Iterator[dict[str, object]]:
    for field in ("nonce", "ct"):
        tampered = copy.deepcopy(envelope)
        data = bytearray(b64d(str(tampered[field])))
        data[0] ^= 0x80
        tampered[field] = b64e(bytes(data))
        yield tampered
    tampered = copy.deepcopy(envelope)
    entry = tampered["recipients"][0]  # type: ignore[index]
    entry["sealed_key"] = entry["sealed_key"][:-4] + "AAA="
    yield tampered
    tampered = copy.deepcopy(envelope)
    tampered["v"] = 2
    yield tampered


def test_reprs_hide_private_keys(alice: KeyPair, kdf_cost: KdfCost) -> None:
    keys = derive_receipt_keys(RECEIPT, salt=bytes(16), server_secret=bytes(32), cost=kdf_cost)
    cases: list[tuple[object, list[bytes | str]]] = [
        (alice, [alice.private_key]),
        (keys, [keys.keypair.private_key, keys.lookup, RECEIPT]),
        (keys.keypair, [keys.keypair.private_key]),
    ]
    for thing, secrets in cases:
        text = "\n".join([repr(thing), str(thing), f"{thing}", f"{thing!r}", repr([thing])])
        _assert_clean(text, *secrets)
    assert alice.kid in repr(alice)  # the public id is what a log line may show


def test_tamper_errors_show_no_key_or_plaintext(alice: KeyPair, mallory: KeyPair) -> None:
    envelope = _envelope_with_known_data_key(alice)
    assert open_envelope(envelope, private_key=alice.private_key, aad=case_aad(CASE_REF)) == {
        "narrative": PLAINTEXT_CANARY
    }
    errors: list[CryptoError] = []
    for tampered in _tamperings(envelope):
        errors.append(
            _raised(
                functools.partial(
                    open_envelope, tampered, private_key=alice.private_key, aad=case_aad(CASE_REF)
                )
            )
        )
    errors.append(
        _raised(
            lambda: open_envelope(envelope, private_key=alice.private_key, aad=case_aad("KE-other"))
        )
    )
    errors.append(
        _raised(
            lambda: open_envelope(envelope, private_key=mallory.private_key, aad=case_aad(CASE_REF))
        )
    )
    errors.append(
        _raised(
            lambda: add_recipient(
                envelope,
                private_key=alice.private_key,
                new_public_key=mallory.public_key,
                aad=case_aad("KE-other"),
            )
        )
    )
    assert all(isinstance(error, EnvelopeError) for error in errors)
    for error in errors:
        _assert_clean(
            _rendered(error), alice.private_key, mallory.private_key, DATA_KEY, PLAINTEXT_CANARY
        )


def test_undecodable_content_leaves_no_plaintext_behind(alice: KeyPair) -> None:
    """A correctly sealed but non-UTF-8 / non-JSON content: the decode error holds it."""
    for plaintext in [PLAINTEXT_CANARY.encode() + b"\xff", PLAINTEXT_CANARY.encode()]:
        nonce = raw.randombytes(24)
        ct = raw.crypto_aead_xchacha20poly1305_ietf_encrypt(
            plaintext, case_aad(CASE_REF), nonce, DATA_KEY
        )
        envelope = _envelope_with_known_data_key(alice)
        envelope.update(nonce=b64e(nonce), ct=b64e(ct))
        error = _raised(
            functools.partial(
                open_envelope, envelope, private_key=alice.private_key, aad=case_aad(CASE_REF)
            )
        )
        assert isinstance(error, EnvelopeError)
        assert error.__context__ is None
        _assert_clean(_rendered(error), PLAINTEXT_CANARY, DATA_KEY, alice.private_key)


def test_unsealable_content_is_not_echoed(alice: KeyPair) -> None:
    unsealable: list[dict[str, object]] = [
        {"narrative": PLAINTEXT_CANARY + "\ud800"},
        {PLAINTEXT_CANARY: {1, 2}},
    ]
    for content in unsealable:
        error = _raised(
            functools.partial(seal, content, public_keys=[alice.public_key], aad=case_aad(CASE_REF))
        )
        _assert_clean(_rendered(error), PLAINTEXT_CANARY)


def test_key_file_errors_show_no_passphrase_or_key(
    tmp_path: Path, alice: KeyPair, kdf_cost: KdfCost
) -> None:
    path = tmp_path / "fp.key"
    write_private_key_file(path, alice, PASSPHRASE_CANARY, cost=kdf_cost)
    _assert_clean(path.read_text(), PASSPHRASE_CANARY, alice.private_key)
    errors = [
        _raised(lambda: read_private_key_file(path, PASSPHRASE_CANARY + "x")),
        _raised(lambda: read_private_key_file(path, PASSPHRASE_CANARY + "\udc80")),
        _raised(lambda: write_private_key_file(path, alice, PASSPHRASE_CANARY, cost=kdf_cost)),
        _raised(
            lambda: write_private_key_file(
                tmp_path / "new.key", alice, PASSPHRASE_CANARY + "\udc80", cost=kdf_cost
            )
        ),
    ]
    passphrase_file = tmp_path / "pass.txt"
    passphrase_file.write_bytes(PASSPHRASE_CANARY.encode() + b"\xff\n")
    errors.append(_raised(lambda: read_passphrase_file(passphrase_file)))
    assert all(isinstance(error, KeyFileError) for error in errors)
    for error in errors:
        _assert_clean(_rendered(error), PASSPHRASE_CANARY, alice.private_key)
        assert "\n" not in str(error)


def test_receipt_errors_show_no_receipt_or_message(kdf_cost: KdfCost) -> None:
    keys = derive_receipt_keys(RECEIPT, salt=bytes(16), server_secret=bytes(32), cost=kdf_cost)
    other = derive_receipt_keys(
        RECEIPT[:-1] + "9", salt=bytes(16), server_secret=bytes(32), cost=kdf_cost
    )
    sealed = seal_to_public_key(PLAINTEXT_CANARY, keys.keypair.public_key)
    not_utf8 = b64e(
        raw.crypto_box_seal(b"\xff" + PLAINTEXT_CANARY.encode(), keys.keypair.public_key)
    )
    errors = [
        _raised(lambda: open_with_keypair(sealed, other.keypair)),
        _raised(lambda: open_with_keypair(not_utf8, keys.keypair)),
        _raised(
            lambda: derive_receipt_keys(
                RECEIPT + "1", salt=bytes(16), server_secret=bytes(32), cost=kdf_cost
            )
        ),
        _raised(lambda: seal_to_public_key(PLAINTEXT_CANARY + "\ud800", keys.keypair.public_key)),
    ]
    for error in errors:
        _assert_clean(
            _rendered(error),
            PLAINTEXT_CANARY,
            RECEIPT,
            keys.keypair.private_key,
            other.keypair.private_key,
        )
