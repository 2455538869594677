"""Fixtures for the crypto tests.

KDF costs reach the code under test only through `kdf_cost`, which gives
`TEST_COST` (libsodium's minimum limits): fast, and useless against guessing,
which is why it lives here and nowhere in production code paths.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from crypto.kdf import TEST_COST, KdfCost
from crypto.keys import KeyPair, generate_keypair

VECTOR_FILE = Path(__file__).parent / "vectors" / "envelope_v1.json"


@pytest.fixture
def kdf_cost() -> KdfCost:
    return TEST_COST


@pytest.fixture(scope="session")
def vector() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(VECTOR_FILE.read_text(encoding="utf-8"))
    return loaded


@pytest.fixture
def alice() -> KeyPair:
    return generate_keypair()


@pytest.fixture
def bob() -> KeyPair:
    return generate_keypair()


@pytest.fixture
def mallory() -> KeyPair:
    return generate_keypair()
