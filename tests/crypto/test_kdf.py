"""KDF costs and primitives."""

from __future__ import annotations

import nacl.pwhash.argon2id as nacl_argon2id
import pytest

from crypto.errors import CryptoError
from crypto.kdf import KEYFILE_COST, RECEIPT_COST, TEST_COST, KdfCost, argon2id, keyed_hash

SALT = bytes(range(16))


def test_receipt_cost_is_at_least_the_spec_minimum() -> None:
    """SPEC section 8: t=2, m=19 MiB. The one test that looks at production costs."""
    spec_minimum = KdfCost(opslimit=2, memlimit=19 * 1024 * 1024)
    assert RECEIPT_COST.is_at_least(spec_minimum)
    assert RECEIPT_COST.memlimit == 19_922_944


def test_keyfile_cost_is_libsodium_moderate() -> None:
    assert KEYFILE_COST.opslimit >= nacl_argon2id.OPSLIMIT_MODERATE
    assert KEYFILE_COST.memlimit >= nacl_argon2id.MEMLIMIT_MODERATE


def test_test_cost_is_libsodiums_floor_and_below_production(kdf_cost: KdfCost) -> None:
    assert kdf_cost is TEST_COST
    assert (TEST_COST.opslimit, TEST_COST.memlimit) == (1, 8192)
    assert not TEST_COST.is_at_least(RECEIPT_COST)


@pytest.mark.parametrize(
    ("opslimit", "memlimit"),
    [(0, 8192), (1, 8191), (1.0, 8192), (True, 8192), (1, "8192"), (2**32, 8192)],
)
def test_costs_outside_libsodium_are_refused(opslimit: object, memlimit: object) -> None:
    with pytest.raises(CryptoError):
        KdfCost(opslimit=opslimit, memlimit=memlimit)  # type: ignore[arg-type]


def test_argon2id_is_deterministic_and_salted(kdf_cost: KdfCost) -> None:
    first = argon2id(b"secret", salt=SALT, cost=kdf_cost)
    assert len(first) == 32
    assert argon2id(b"secret", salt=SALT, cost=kdf_cost) == first
    assert argon2id(b"secret", salt=bytes(16), cost=kdf_cost) != first
    assert argon2id(b"secret", salt=SALT, cost=KdfCost(2, 8192)) != first
    assert len(argon2id(b"secret", salt=SALT, cost=kdf_cost, size=64)) == 64


@pytest.mark.parametrize("salt", [b"", bytes(15), bytes(17), "0123456789abcdef"])
def test_argon2id_salt_is_exactly_16_bytes(kdf_cost: KdfCost, salt: object) -> None:
    with pytest.raises(CryptoError):
        argon2id(b"secret", salt=salt, cost=kdf_cost)  # type: ignore[arg-type]


def test_keyed_hash_separates_keys_and_personalisations() -> None:
    base = keyed_hash(b"k", key=b"server secret", person=b"lookup")
    assert len(base) == 32
    assert keyed_hash(b"k", key=b"server secret", person=b"reporter") != base
    assert keyed_hash(b"k", key=b"server secret!", person=b"lookup") != base
    assert keyed_hash(b"k2", key=b"server secret", person=b"lookup") != base


def test_keyed_hash_long_keys_use_every_byte() -> None:
    long_key = bytes(range(64)) + b"tail"
    other_tail = bytes(range(64)) + b"TAIL"
    assert keyed_hash(b"k", key=long_key, person=b"p") != keyed_hash(
        b"k", key=other_tail, person=b"p"
    )
    assert keyed_hash(b"k", key=long_key, person=b"p") != keyed_hash(
        b"k", key=long_key[:64], person=b"p"
    )


@pytest.mark.parametrize(
    ("key", "person", "size"),
    [(b"", b"p", 32), (b"k", b"seventeen-bytes!!", 32), (b"k", b"p", 0), (b"k", b"p", 65)],
)
def test_keyed_hash_refuses_bad_parameters(key: bytes, person: bytes, size: int) -> None:
    with pytest.raises(CryptoError):
        keyed_hash(b"data", key=key, person=person, size=size)
