"""`is_full_order_public_key`: real X25519 keys pass; small-order, mixed-order, twist fail."""

from __future__ import annotations

import pytest

from crypto.keys import generate_keypair, is_full_order_public_key, keypair_from_seed

P = 2**255 - 19
# The u-coordinates of points of small order that libsodium blacklists, and their
# non-canonical aliases (u + p) where they fit in 255 bits.
SMALL_ORDER = [
    0,
    1,
    325606250916557431795983626356110631294008115727848805560023387167927233504,
    39382357235489614581723060781553021112529911719440698176882885853963445705823,
    P - 1,
    P,
    P + 1,
]


def _bytes(u: int) -> bytes:
    return u.to_bytes(32, "little")


def test_generated_and_seeded_keys_are_of_full_order() -> None:
    for _ in range(50):
        assert is_full_order_public_key(generate_keypair().public_key)
    assert is_full_order_public_key(keypair_from_seed(bytes(32)).public_key)


@pytest.mark.parametrize("u", SMALL_ORDER, ids=[f"small-{n}" for n in range(len(SMALL_ORDER))])
def test_small_order_points_are_refused(u: int) -> None:
    assert not is_full_order_public_key(_bytes(u))


def test_a_mixed_order_point_is_refused() -> None:
    # Adding the point (0, 0) of order 2 maps u to 1/u: on the curve, order 2L.
    u = int.from_bytes(generate_keypair().public_key, "little")
    assert not is_full_order_public_key(_bytes(pow(u, P - 2, P)))


def test_a_point_on_the_twist_and_non_canonical_encodings_are_refused() -> None:
    assert not is_full_order_public_key(_bytes(2))  # u = 2 lies on the twist
    key = bytearray(generate_keypair().public_key)
    key[31] |= 0x80  # the top bit X25519 ignores: a second spelling of the key
    assert not is_full_order_public_key(bytes(key))


@pytest.mark.parametrize("value", [b"", bytes(31), bytes(33)])
def test_wrong_lengths_are_refused(value: bytes) -> None:
    assert not is_full_order_public_key(value)
