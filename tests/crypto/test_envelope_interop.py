"""Interoperability: envelopes and hashes built with PyNaCl's raw bindings, not the module.

Each test builds one side with `nacl.bindings` alone (what another
implementation, such as libsodium.js in a browser, would call) and checks the
module on the other side.
"""

from __future__ import annotations

import base64
import json

import nacl.bindings as raw
import pytest

from crypto.envelope import case_aad, kid_of, open_envelope, seal
from crypto.kdf import TEST_COST, KdfCost, argon2id, keyed_hash
from crypto.keys import KeyPair, keypair_from_seed
from crypto.receipt import open_with_keypair, seal_to_public_key

CASE_REF = "SO-2026-004711"
CONTENT = {"narrative": "Он сказал — 他说 — قال", "victim": {"age": 9, "sex": None}}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _raw_kid(public_key: bytes) -> str:
    return raw.crypto_generichash_blake2b_salt_personal(public_key, digest_size=16).hex()


def _raw_envelope(content: object, public_keys: list[bytes], case_ref: str) -> dict[str, object]:
    """An envelope exactly as SPEC section 5 describes it, from primitives only."""
    data_key = raw.randombytes(32)
    nonce = raw.randombytes(24)
    plaintext = json.dumps(content).encode("utf-8")  # another writer's JSON style
    aad = b"intake:v1:" + case_ref.encode("utf-8")
    ct = raw.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, aad, nonce, data_key)
    return {
        "v": 1,
        "aead": "xchacha20poly1305-ietf",
        "nonce": _b64(nonce),
        "ct": _b64(ct),
        "recipients": [
            {"kid": _raw_kid(pk), "sealed_key": _b64(raw.crypto_box_seal(data_key, pk))}
            for pk in public_keys
        ],
    }


def _raw_open(envelope: dict[str, object], keypair: KeyPair, case_ref: str) -> object:
    recipients = envelope["recipients"]
    assert isinstance(recipients, list)
    (entry,) = [e for e in recipients if e["kid"] == _raw_kid(keypair.public_key)]
    data_key = raw.crypto_box_seal_open(
        base64.b64decode(entry["sealed_key"]), keypair.public_key, keypair.private_key
    )
    plaintext = raw.crypto_aead_xchacha20poly1305_ietf_decrypt(
        base64.b64decode(str(envelope["ct"])),
        b"intake:v1:" + case_ref.encode("utf-8"),
        base64.b64decode(str(envelope["nonce"])),
        data_key,
    )
    return json.loads(plaintext)


def test_module_opens_a_raw_envelope(alice: KeyPair, bob: KeyPair) -> None:
    envelope = _raw_envelope(CONTENT, [alice.public_key, bob.public_key], CASE_REF)
    for keypair in (alice, bob):
        opened = open_envelope(envelope, private_key=keypair.private_key, aad=case_aad(CASE_REF))
        assert opened == CONTENT


def test_raw_bindings_open_a_module_envelope(alice: KeyPair, bob: KeyPair) -> None:
    envelope = seal(CONTENT, public_keys=[alice.public_key, bob.public_key], aad=case_aad(CASE_REF))
    for keypair in (alice, bob):
        assert _raw_open(envelope, keypair, CASE_REF) == CONTENT


def test_kid_matches_libsodium_generichash(alice: KeyPair) -> None:
    assert kid_of(alice.public_key) == _raw_kid(alice.public_key)


def test_keypair_from_seed_matches_crypto_box_seed_keypair() -> None:
    seed = bytes(range(32))
    public_key, private_key = raw.crypto_box_seed_keypair(seed)
    keypair = keypair_from_seed(seed)
    assert (keypair.public_key, keypair.private_key) == (public_key, private_key)
    assert raw.crypto_scalarmult_base(private_key) == public_key


@pytest.mark.parametrize("key_size", [1, 32, 64, 100])
@pytest.mark.parametrize("person", [b"", b"lookup", b"reporter", b"sixteen-bytes!!!"])
def test_keyed_hash_matches_blake2b_salt_personal(key_size: int, person: bytes) -> None:
    key = bytes(range(key_size))
    if key_size > 64:  # the documented reduction of an over-long key
        key_for_raw = raw.crypto_generichash_blake2b_salt_personal(
            key, digest_size=64, person=b"intake:longkey".ljust(16, b"\0")
        )
    else:
        key_for_raw = key
    expected = raw.crypto_generichash_blake2b_salt_personal(
        b"data", digest_size=32, key=key_for_raw, person=person.ljust(16, b"\0")
    )
    assert keyed_hash(b"data", key=key, person=person) == expected


def test_argon2id_matches_crypto_pwhash(kdf_cost: KdfCost) -> None:
    salt = bytes(range(16))
    expected = raw.crypto_pwhash_alg(
        32,
        b"1234567890123456",
        salt,
        kdf_cost.opslimit,
        kdf_cost.memlimit,
        raw.crypto_pwhash_ALG_ARGON2ID13,
    )
    assert argon2id(b"1234567890123456", salt=salt, cost=kdf_cost) == expected
    assert kdf_cost == TEST_COST


def test_reporter_messages_interoperate_both_ways(alice: KeyPair) -> None:
    sealed_by_raw = _b64(raw.crypto_box_seal("Merci — شكرا".encode(), alice.public_key))
    assert open_with_keypair(sealed_by_raw, alice) == "Merci — شكرا"
    sealed_by_module = base64.b64decode(seal_to_public_key("Asante", alice.public_key))
    opened = raw.crypto_box_seal_open(sealed_by_module, alice.public_key, alice.private_key)
    assert opened == b"Asante"
