"""The published vector tests/crypto/vectors/envelope_v1.json (see README.md there)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import nacl.bindings as raw
import pytest

import crypto.envelope
from crypto.envelope import b64d, b64e, case_aad, encode_content, kid_of, open_envelope, seal
from crypto.errors import EnvelopeError
from crypto.keys import KeyPair

Vector = dict[str, Any]


def _keypairs(vector: Vector) -> Iterator[KeyPair]:
    for recipient in vector["recipients"]:
        yield KeyPair(
            public_key=bytes.fromhex(recipient["public_key_hex"]),
            private_key=bytes.fromhex(recipient["private_key_hex"]),
        )


def test_vector_is_consistent_under_raw_libsodium(vector: Vector) -> None:
    """The file itself is right, judged by primitives only (no module code)."""
    data_key = bytes.fromhex(vector["data_key_hex"])
    aad = b"intake:v1:" + vector["case_ref"].encode()
    assert bytes.fromhex(vector["aad_hex"]) == aad
    ct = raw.crypto_aead_xchacha20poly1305_ietf_encrypt(
        bytes.fromhex(vector["plaintext_hex"]), aad, bytes.fromhex(vector["nonce_hex"]), data_key
    )
    assert ct.hex() == vector["ct_hex"]
    for recipient, entry in zip(
        vector["recipients"], vector["envelope"]["recipients"], strict=True
    ):
        pk, sk = (
            bytes.fromhex(recipient["public_key_hex"]),
            bytes.fromhex(recipient["private_key_hex"]),
        )
        assert raw.crypto_scalarmult_base(sk) == pk
        assert entry["kid"] == recipient["kid"]
        opened = raw.crypto_box_seal_open(b64d(entry["sealed_key"]), pk, sk)
        assert opened == data_key


def test_kids_and_public_key_encoding(vector: Vector) -> None:
    for recipient in vector["recipients"]:
        public_key = bytes.fromhex(recipient["public_key_hex"])
        assert kid_of(public_key) == recipient["kid"]
        assert b64e(public_key) == recipient["public_key_b64"]


def test_module_serialises_the_content_to_the_vector_plaintext(vector: Vector) -> None:
    assert encode_content(vector["content"]).hex() == vector["plaintext_hex"]


def test_module_opens_the_vector_with_each_key(vector: Vector) -> None:
    aad = case_aad(vector["case_ref"])
    assert aad.hex() == vector["aad_hex"]
    for keypair in _keypairs(vector):
        opened = open_envelope(vector["envelope"], private_key=keypair.private_key, aad=aad)
        assert opened == vector["content"]


def test_module_does_not_open_the_vector_for_another_case(vector: Vector) -> None:
    keypair = next(_keypairs(vector))
    with pytest.raises(EnvelopeError):
        open_envelope(
            vector["envelope"], private_key=keypair.private_key, aad=case_aad("KE-2026-000124")
        )


def test_seal_with_the_vector_key_and_nonce_gives_the_vector_ct(
    vector: Vector, monkeypatch: pytest.MonkeyPatch
) -> None:
    """seal() draws the data key, then the nonce; pin both to the vector's."""
    draws = iter([bytes.fromhex(vector["data_key_hex"]), bytes.fromhex(vector["nonce_hex"])])

    def pinned(size: int) -> bytes:
        value = next(draws)
        assert len(value) == size
        return value

    monkeypatch.setattr(crypto.envelope, "_random_bytes", pinned)
    keypairs = list(_keypairs(vector))
    envelope = seal(
        vector["content"],
        public_keys=[kp.public_key for kp in keypairs],
        aad=case_aad(vector["case_ref"]),
    )
    assert envelope["nonce"] == vector["envelope"]["nonce"]
    assert envelope["ct"] == vector["envelope"]["ct"]
    assert b64d(str(envelope["ct"])).hex() == vector["ct_hex"]
    recipients = envelope["recipients"]
    assert isinstance(recipients, list)
    for keypair, entry in zip(keypairs, recipients, strict=True):
        assert entry["kid"] == kid_of(keypair.public_key)
        opened = raw.crypto_box_seal_open(
            b64d(entry["sealed_key"]), keypair.public_key, keypair.private_key
        )
        assert opened.hex() == vector["data_key_hex"]
