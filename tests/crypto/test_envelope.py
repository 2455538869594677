"""Envelope v1: shape, round trips, and every rejection path, one at a time."""

from __future__ import annotations

import copy
import json

import pytest

import crypto.envelope
from crypto.envelope import (
    ENVELOPE_VERSION,
    add_recipient,
    b64d,
    b64e,
    case_aad,
    encode_content,
    kid_of,
    open_envelope,
    seal,
    sealed_key_entry,
    validate_envelope_shape,
)
from crypto.errors import CryptoError, EnvelopeError
from crypto.keys import KeyPair

AAD = case_aad("KE-2026-000001")
CONTENT: dict[str, object] = {"narrative": "Récit — شهادة", "location": None, "n": [1, 2.5]}


def _sealed(*keypairs: KeyPair, aad: bytes = AAD) -> dict[str, object]:
    return seal(CONTENT, public_keys=[kp.public_key for kp in keypairs], aad=aad)


def _recipients(envelope: dict[str, object]) -> list[dict[str, str]]:
    recipients = envelope["recipients"]
    assert isinstance(recipients, list)
    return recipients


def test_seal_has_exactly_the_spec_shape(alice: KeyPair, bob: KeyPair) -> None:
    envelope = _sealed(alice, bob)
    assert set(envelope) == {"v", "aead", "nonce", "ct", "recipients"}
    assert envelope["v"] == ENVELOPE_VERSION == 1
    assert envelope["aead"] == "xchacha20poly1305-ietf"
    assert isinstance(envelope["nonce"], str)
    assert len(b64d(envelope["nonce"])) == 24
    assert [e["kid"] for e in _recipients(envelope)] == [alice.kid, bob.kid]
    assert all(len(b64d(e["sealed_key"])) == 80 for e in _recipients(envelope))
    json.dumps(envelope)  # storable as JSON as it is
    validate_envelope_shape(envelope)


def test_every_recipient_opens_the_same_content(alice: KeyPair, bob: KeyPair) -> None:
    envelope = _sealed(alice, bob)
    for keypair in (alice, bob):
        assert open_envelope(envelope, private_key=keypair.private_key, aad=AAD) == CONTENT


def test_equal_keys_are_sealed_once_in_first_order(alice: KeyPair, bob: KeyPair) -> None:
    keys = [bob.public_key, alice.public_key, bob.public_key, alice.public_key]
    envelope = seal(CONTENT, public_keys=keys, aad=AAD)
    assert [e["kid"] for e in _recipients(envelope)] == [bob.kid, alice.kid]


def test_each_seal_uses_a_fresh_nonce_and_data_key(alice: KeyPair) -> None:
    first, second = _sealed(alice), _sealed(alice)
    assert first["nonce"] != second["nonce"]
    assert first["ct"] != second["ct"]


def test_content_is_compact_utf8_json_in_given_order() -> None:
    assert encode_content({"b": "é", "a": [1, None]}) == '{"b":"é","a":[1,null]}'.encode()


def test_aad_is_prefix_and_utf8_case_ref() -> None:
    assert case_aad("KE-1") == b"intake:v1:KE-1"
    assert case_aad("ñ") == b"intake:v1:\xc3\xb1"
    with pytest.raises(CryptoError):
        case_aad("")


def test_kid_is_blake2b_16_of_the_raw_key() -> None:
    rfc7748_alice = bytes.fromhex(
        "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
    )
    assert kid_of(rfc7748_alice) == "15b689321abfea25a478a451efca7847"
    with pytest.raises(CryptoError):
        kid_of(rfc7748_alice[:31])


def test_a_key_without_an_entry_is_told_so(alice: KeyPair, mallory: KeyPair) -> None:
    with pytest.raises(EnvelopeError, match="no entry for this key"):
        open_envelope(_sealed(alice), private_key=mallory.private_key, aad=AAD)


def test_another_case_ref_does_not_open(alice: KeyPair) -> None:
    with pytest.raises(EnvelopeError, match="does not open"):
        open_envelope(_sealed(alice), private_key=alice.private_key, aad=case_aad("KE-2"))


def test_entries_swapped_between_recipients_do_not_open(alice: KeyPair, bob: KeyPair) -> None:
    envelope = _sealed(alice, bob)
    first, second = _recipients(envelope)
    first["sealed_key"], second["sealed_key"] = second["sealed_key"], first["sealed_key"]
    for keypair in (alice, bob):
        with pytest.raises(EnvelopeError, match="does not open"):
            open_envelope(envelope, private_key=keypair.private_key, aad=AAD)


def test_an_entry_taken_from_another_case_does_not_open(alice: KeyPair) -> None:
    envelope, other = _sealed(alice), _sealed(alice)
    envelope["recipients"] = other["recipients"]
    with pytest.raises(EnvelopeError, match="does not open"):
        open_envelope(envelope, private_key=alice.private_key, aad=AAD)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("v", 2),
        ("v", True),
        ("v", "1"),
        ("aead", "xchacha20poly1305"),
        ("nonce", "QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZX"[:-4]),  # 21 bytes
        ("nonce", "QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZ"),  # padding missing
        ("nonce", 42),
        ("ct", "AAAA"),  # shorter than the tag
        ("ct", "AB=="),  # non-canonical base64 (stray low bits)
        ("ct", "a_b-"),  # URL-safe alphabet
        ("ct", "ÄÄÄÄ"),
        ("recipients", []),
        ("recipients", {}),
        ("recipients", ["x"]),
    ],
)
def test_malformed_fields_are_rejected(alice: KeyPair, field: str, value: object) -> None:
    envelope = _sealed(alice)
    envelope[field] = value
    with pytest.raises(EnvelopeError):
        validate_envelope_shape(envelope)
    with pytest.raises(EnvelopeError):
        open_envelope(envelope, private_key=alice.private_key, aad=AAD)


@pytest.mark.parametrize(
    "change",
    [
        lambda e: e.update(extra=1),
        lambda e: e.pop("ct"),
        lambda e: e["recipients"][0].update(extra="x"),
        lambda e: e["recipients"][0].pop("sealed_key"),
        lambda e: e["recipients"][0].update(kid=e["recipients"][0]["kid"].upper()),
        lambda e: e["recipients"][0].update(kid="00" * 15),
        lambda e: e["recipients"][0].update(sealed_key=b64e(bytes(79))),
        lambda e: e["recipients"].append(dict(e["recipients"][0])),
    ],
    ids=[
        "extra",
        "missing",
        "entry-extra",
        "entry-missing",
        "kid-case",
        "kid-short",
        "sealed-short",
        "duplicate-kid",
    ],
)
def test_malformed_structure_is_rejected(alice: KeyPair, change: object) -> None:
    envelope = _sealed(alice)
    assert callable(change)
    change(envelope)
    with pytest.raises(EnvelopeError):
        validate_envelope_shape(envelope)


@pytest.mark.parametrize("value", [None, [], "envelope", 1])
def test_non_mappings_are_rejected(value: object) -> None:
    with pytest.raises(EnvelopeError):
        validate_envelope_shape(value)


def test_add_recipient_lets_the_new_key_open(alice: KeyPair, bob: KeyPair) -> None:
    envelope = _sealed(alice)
    before = copy.deepcopy(envelope)
    rerouted = add_recipient(envelope, private_key=alice.private_key, new_public_key=bob.public_key)
    assert envelope == before  # the input is not changed
    assert [e["kid"] for e in _recipients(rerouted)] == [alice.kid, bob.kid]
    assert {k: v for k, v in rerouted.items() if k != "recipients"} == {
        k: v for k, v in envelope.items() if k != "recipients"
    }
    for keypair in (alice, bob):
        assert open_envelope(rerouted, private_key=keypair.private_key, aad=AAD) == CONTENT


def test_add_recipient_of_a_present_key_changes_nothing(alice: KeyPair, bob: KeyPair) -> None:
    envelope = _sealed(alice, bob)
    again = add_recipient(envelope, private_key=alice.private_key, new_public_key=bob.public_key)
    assert again == envelope


def test_add_recipient_needs_an_entry_for_its_own_key(
    alice: KeyPair, bob: KeyPair, mallory: KeyPair
) -> None:
    with pytest.raises(EnvelopeError, match="no entry"):
        add_recipient(
            _sealed(alice), private_key=mallory.private_key, new_public_key=bob.public_key
        )


def test_add_recipient_with_aad_refuses_a_data_key_of_another_case(
    alice: KeyPair, mallory: KeyPair
) -> None:
    envelope, other_case = _sealed(alice), _sealed(alice)
    envelope["recipients"] = other_case["recipients"]
    # Without the case's aad the doctored entry cannot be told apart...
    add_recipient(envelope, private_key=alice.private_key, new_public_key=mallory.public_key)
    # ...with it, the data key must open this very content first.
    with pytest.raises(EnvelopeError, match="does not open"):
        add_recipient(
            envelope, private_key=alice.private_key, new_public_key=mallory.public_key, aad=AAD
        )


def test_sealed_key_entry_checks_lengths(alice: KeyPair) -> None:
    entry = sealed_key_entry(bytes(32), alice.public_key)
    assert entry["kid"] == alice.kid
    with pytest.raises(CryptoError):
        sealed_key_entry(bytes(31), alice.public_key)
    with pytest.raises(CryptoError):
        sealed_key_entry(bytes(32), alice.public_key[:16])


@pytest.mark.parametrize(
    "content",
    [{"x": float("nan")}, {"x": object()}, {1: "int key"}, ["not", "a", "mapping"]],
    ids=["nan", "object", "int-key", "list"],
)
def test_unserialisable_content_is_refused(alice: KeyPair, content: object) -> None:
    with pytest.raises(CryptoError, match="content"):
        seal(content, public_keys=[alice.public_key], aad=AAD)  # type: ignore[arg-type]


def test_seal_needs_valid_keys_and_bytes_aad(alice: KeyPair) -> None:
    with pytest.raises(CryptoError, match="at least one"):
        seal(CONTENT, public_keys=[], aad=AAD)
    with pytest.raises(CryptoError, match="32 bytes"):
        seal(CONTENT, public_keys=[alice.public_key + b"\0"], aad=AAD)
    with pytest.raises(CryptoError, match="sequence"):
        seal(CONTENT, public_keys=alice.public_key, aad=AAD)  # type: ignore[arg-type]
    with pytest.raises(CryptoError, match="associated data"):
        seal(CONTENT, public_keys=[alice.public_key], aad="KE-1")  # type: ignore[arg-type]


def test_base64_is_standard_padded_and_strict() -> None:
    assert b64e(b"\xfb\xff") == "+/8="
    assert b64d("+/8=") == b"\xfb\xff"
    assert b64d("+/8=", length=2) == b"\xfb\xff"
    assert b64d("") == b""
    for bad in ["+/8", "-_8=", "+/8= ", "+/9=", "ÿ", "+/8==", "+/==8"]:
        with pytest.raises(CryptoError) as caught:
            b64d(bad)
        assert not isinstance(caught.value, ValueError)
    with pytest.raises(CryptoError, match="expected 3 bytes"):
        b64d("+/8=", length=3)
    with pytest.raises(CryptoError):
        b64d(b"+/8=")  # type: ignore[arg-type]


def test_a_low_order_public_key_is_refused() -> None:
    with pytest.raises(CryptoError, match="not a usable X25519 key"):
        seal(CONTENT, public_keys=[bytes(32)], aad=AAD)


def test_absurdly_deep_content_is_refused_not_crashed(alice: KeyPair) -> None:
    deep: list[object] = []
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(CryptoError, match="content"):
        seal({"x": deep}, public_keys=[alice.public_key], aad=AAD)


def test_absurdly_deep_sealed_content_fails_to_open(
    alice: KeyPair, monkeypatch: pytest.MonkeyPatch
) -> None:
    plaintext = b'{"x":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    monkeypatch.setattr(crypto.envelope, "encode_content", lambda content: plaintext)
    envelope = seal({}, public_keys=[alice.public_key], aad=AAD)
    monkeypatch.undo()
    with pytest.raises(EnvelopeError, match="not a UTF-8 JSON object"):
        open_envelope(envelope, private_key=alice.private_key, aad=AAD)
