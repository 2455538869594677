"""Receipts (SPEC section 8): generation, typed input, and the derived keys."""

from __future__ import annotations

import re
import secrets

import nacl.bindings as raw
import pytest

from crypto.envelope import b64d, b64e
from crypto.errors import CryptoError, EnvelopeError
from crypto.kdf import KdfCost
from crypto.keys import keypair_from_seed
from crypto.receipt import (
    RECEIPT_DIGITS,
    derive_receipt_keys,
    format_receipt,
    new_receipt,
    normalize_receipt,
    open_with_keypair,
    seal_to_public_key,
)

RECEIPT = "4821067399120583"
SALT = bytes.fromhex("a3" * 16)
SECRET = bytes.fromhex("5e" * 32)


def test_new_receipts_are_16_ascii_digits_and_vary() -> None:
    receipts = {new_receipt() for _ in range(200)}
    assert len(receipts) == 200
    assert all(re.fullmatch(r"[0-9]{16}", r) for r in receipts)
    assert RECEIPT_DIGITS == 16


def test_small_draws_keep_their_leading_zeros(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(secrets, "randbelow", lambda bound: 42)
    assert new_receipt() == "0000000000000042"


def test_format_in_four_groups() -> None:
    assert format_receipt(RECEIPT) == "4821 0673 9912 0583"
    assert format_receipt("4821-0673-9912-0583") == "4821 0673 9912 0583"
    with pytest.raises(CryptoError, match="not a receipt"):
        format_receipt("123")


@pytest.mark.parametrize(
    "typed",
    [
        "4821067399120583",
        "4821 0673 9912 0583",
        "  4821  0673\t9912\n0583 ",
        "4821-0673-9912-0583",
        "4821\u20130673\u20149912\u22120583",  # en dash, em dash, minus sign
        "4821\u00a00673\u202f9912\u30000583",  # no-break, narrow no-break, ideographic space
        "4821\u200b0673\u20609912\ufeff0583",  # zero-width characters from copy and paste
        "4821 -- 0673 - 9912 -- 0583",
        "٤٨٢١ ٠٦٧٣ ٩٩١٢ ٠٥٨٣",  # Arabic-Indic digits
        "۴۸۲۱۰۶۷۳۹۹۱۲۰۵۸۳",  # Extended Arabic-Indic (Persian) digits
        "４８２１０６７３９９１２０５８３",  # full-width digits
    ],
)
def test_typed_receipts_normalise(typed: str) -> None:
    assert normalize_receipt(typed) == RECEIPT


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "482106739912058",  # 15 digits
        "48210673991205830",  # 17 digits
        "4821.0673.9912.0583",
        "4821_0673_9912_0583",
        "+4821067399120583",
        "4821O67399120583",  # letter O
        "²821067399120583",  # superscript two is not a decimal digit
        "1" * 16 + " " * 500,
    ],
)
def test_non_receipts_normalise_to_none(typed: str) -> None:
    assert normalize_receipt(typed) is None


def test_normalize_of_a_non_string_is_none() -> None:
    assert normalize_receipt(4821067399120583) is None  # type: ignore[arg-type]


def test_derivation_is_deterministic_and_accepts_typed_input(kdf_cost: KdfCost) -> None:
    first = derive_receipt_keys(RECEIPT, salt=SALT, server_secret=SECRET, cost=kdf_cost)
    again = derive_receipt_keys(
        "4821-0673 9912-0583", salt=SALT, server_secret=SECRET, cost=kdf_cost
    )
    assert len(first.lookup) == 32
    assert again.lookup == first.lookup
    assert again.keypair == first.keypair


@pytest.mark.parametrize(
    ("receipt", "salt", "secret"),
    [
        ("4821067399120584", SALT, SECRET),
        (RECEIPT, bytes(16), SECRET),
        (RECEIPT, SALT, bytes.fromhex("5f" * 32)),
    ],
    ids=["other-receipt", "other-salt", "other-secret"],
)
def test_any_other_input_gives_other_keys(
    kdf_cost: KdfCost, receipt: str, salt: bytes, secret: bytes
) -> None:
    base = derive_receipt_keys(RECEIPT, salt=SALT, server_secret=SECRET, cost=kdf_cost)
    other = derive_receipt_keys(receipt, salt=salt, server_secret=secret, cost=kdf_cost)
    assert other.lookup != base.lookup
    assert other.keypair.public_key != base.keypair.public_key


def test_derivation_follows_spec_section_8(kdf_cost: KdfCost) -> None:
    """Recomputed from primitives: Argon2id once, then keyed BLAKE2b per personalisation."""
    k = raw.crypto_pwhash_alg(
        32,
        RECEIPT.encode(),
        SALT,
        kdf_cost.opslimit,
        kdf_cost.memlimit,
        raw.crypto_pwhash_ALG_ARGON2ID13,
    )

    def blake(person: bytes) -> bytes:
        return raw.crypto_generichash_blake2b_salt_personal(
            k, digest_size=32, key=SECRET, person=person.ljust(16, b"\0")
        )

    keys = derive_receipt_keys(RECEIPT, salt=SALT, server_secret=SECRET, cost=kdf_cost)
    assert keys.lookup == blake(b"lookup")
    assert keys.keypair == keypair_from_seed(blake(b"reporter"))


@pytest.mark.parametrize(
    ("receipt", "salt", "secret", "message"),
    [
        ("123", SALT, SECRET, "not a receipt"),
        (RECEIPT, bytes(15), SECRET, "salt"),
        (RECEIPT, SALT, bytes(15), "at least 16 bytes"),
        (RECEIPT, SALT, "secret" * 8, "at least 16 bytes"),
    ],
)
def test_derivation_refuses_bad_input(
    kdf_cost: KdfCost, receipt: str, salt: bytes, secret: object, message: str
) -> None:
    with pytest.raises(CryptoError, match=message):
        derive_receipt_keys(receipt, salt=salt, server_secret=secret, cost=kdf_cost)  # type: ignore[arg-type]


def test_a_long_server_secret_works(kdf_cost: KdfCost) -> None:
    long_secret = bytes(range(100))
    keys = derive_receipt_keys(RECEIPT, salt=SALT, server_secret=long_secret, cost=kdf_cost)
    cut = derive_receipt_keys(RECEIPT, salt=SALT, server_secret=long_secret[:64], cost=kdf_cost)
    assert keys.lookup != cut.lookup


def test_messages_open_only_with_the_same_receipt(kdf_cost: KdfCost) -> None:
    keys = derive_receipt_keys(RECEIPT, salt=SALT, server_secret=SECRET, cost=kdf_cost)
    sealed = seal_to_public_key("Nous avons reçu — استلمنا", keys.keypair.public_key)
    again = derive_receipt_keys(
        format_receipt(RECEIPT), salt=SALT, server_secret=SECRET, cost=kdf_cost
    )
    assert open_with_keypair(sealed, again.keypair) == "Nous avons reçu — استلمنا"
    other = derive_receipt_keys("4821067399120584", salt=SALT, server_secret=SECRET, cost=kdf_cost)
    with pytest.raises(EnvelopeError, match="does not open"):
        open_with_keypair(sealed, other.keypair)


def test_each_seal_of_one_message_differs(kdf_cost: KdfCost) -> None:
    keys = derive_receipt_keys(RECEIPT, salt=SALT, server_secret=SECRET, cost=kdf_cost)
    first = seal_to_public_key("hello", keys.keypair.public_key)
    assert seal_to_public_key("hello", keys.keypair.public_key) != first


def test_tampered_or_malformed_messages_fail(kdf_cost: KdfCost) -> None:
    keypair = derive_receipt_keys(RECEIPT, salt=SALT, server_secret=SECRET, cost=kdf_cost).keypair
    data = bytearray(b64d(seal_to_public_key("hello", keypair.public_key)))
    for index in range(len(data)):
        flipped = data.copy()
        flipped[index] ^= 0x01
        with pytest.raises(EnvelopeError):
            open_with_keypair(b64e(bytes(flipped)), keypair)
    for bad in ["", "not base64", b64e(bytes(47)), b64e(bytes(data))[:-2]]:
        with pytest.raises(EnvelopeError):
            open_with_keypair(bad, keypair)


def test_seal_refuses_bad_input(kdf_cost: KdfCost) -> None:
    keypair = derive_receipt_keys(RECEIPT, salt=SALT, server_secret=SECRET, cost=kdf_cost).keypair
    with pytest.raises(CryptoError):
        seal_to_public_key("hello", keypair.public_key[:31])
    with pytest.raises(CryptoError):
        seal_to_public_key("\ud800", keypair.public_key)
    with pytest.raises(CryptoError):
        seal_to_public_key(b"hello", keypair.public_key)  # type: ignore[arg-type]
