"""Key pairs, passphrase-protected private key files and passphrase files."""

from __future__ import annotations

import inspect
import json
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import nacl.pwhash.argon2id as nacl_argon2id
import pytest

from crypto.envelope import b64d, b64e, kid_of
from crypto.errors import CryptoError, KeyFileError
from crypto.kdf import KEYFILE_COST, KdfCost
from crypto.keys import (
    KeyPair,
    generate_keypair,
    keypair_from_seed,
    public_key_b64,
    read_passphrase_file,
    read_private_key_file,
    write_private_key_file,
)

PASSPHRASE = "correct horse — cheval correct"


@contextmanager
def _umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def _written(tmp_path: Path, keypair: KeyPair, cost: KdfCost) -> Path:
    path = tmp_path / "fp.key"
    write_private_key_file(path, keypair, PASSPHRASE, cost=cost)
    return path


def test_round_trip(tmp_path: Path, alice: KeyPair, kdf_cost: KdfCost) -> None:
    path = _written(tmp_path, alice, kdf_cost)
    assert read_private_key_file(path, PASSPHRASE) == alice


@pytest.mark.parametrize("mask", [0o000, 0o022, 0o077, 0o277])
def test_file_mode_is_0600_whatever_the_umask(
    tmp_path: Path, alice: KeyPair, kdf_cost: KdfCost, mask: int
) -> None:
    with _umask(mask):
        path = _written(tmp_path, alice, kdf_cost)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_file_fields_and_no_clear_private_key(
    tmp_path: Path, alice: KeyPair, kdf_cost: KdfCost
) -> None:
    text = _written(tmp_path, alice, kdf_cost).read_text(encoding="utf-8")
    document = json.loads(text)
    assert set(document) == {
        "v",
        "kdf",
        "opslimit",
        "memlimit",
        "salt",
        "nonce",
        "box",
        "public_key",
        "kid",
    }
    assert (document["v"], document["kdf"]) == (1, "argon2id")
    assert (document["opslimit"], document["memlimit"]) == (kdf_cost.opslimit, kdf_cost.memlimit)
    assert len(b64d(document["salt"])) == 16
    assert b64d(document["public_key"]) == alice.public_key
    assert document["kid"] == kid_of(alice.public_key)
    for form in (alice.private_key.hex(), b64e(alice.private_key)):
        assert form not in text


def test_two_files_of_one_key_use_different_salts(
    tmp_path: Path, alice: KeyPair, kdf_cost: KdfCost
) -> None:
    documents = []
    for name in ("a.key", "b.key"):
        write_private_key_file(tmp_path / name, alice, PASSPHRASE, cost=kdf_cost)
        documents.append(json.loads((tmp_path / name).read_text()))
    assert documents[0]["salt"] != documents[1]["salt"]
    assert documents[0]["box"] != documents[1]["box"]


def test_existing_file_is_never_overwritten(
    tmp_path: Path, alice: KeyPair, kdf_cost: KdfCost
) -> None:
    path = tmp_path / "fp.key"
    path.write_text("precious\n")
    with pytest.raises(KeyFileError, match="refusing to overwrite"):
        write_private_key_file(path, alice, PASSPHRASE, cost=kdf_cost)
    assert path.read_text() == "precious\n"


def test_a_symlink_is_not_followed(tmp_path: Path, alice: KeyPair, kdf_cost: KdfCost) -> None:
    link = tmp_path / "fp.key"
    link.symlink_to(tmp_path / "elsewhere.key")
    with pytest.raises(KeyFileError, match="refusing to overwrite"):
        write_private_key_file(link, alice, PASSPHRASE, cost=kdf_cost)
    assert not (tmp_path / "elsewhere.key").exists()


def test_missing_folder_is_a_key_file_error(
    tmp_path: Path, alice: KeyPair, kdf_cost: KdfCost
) -> None:
    with pytest.raises(KeyFileError, match="cannot create key file"):
        write_private_key_file(tmp_path / "no" / "fp.key", alice, PASSPHRASE, cost=kdf_cost)


def test_wrong_passphrase_is_a_one_line_error(
    tmp_path: Path, alice: KeyPair, kdf_cost: KdfCost
) -> None:
    path = _written(tmp_path, alice, kdf_cost)
    with pytest.raises(KeyFileError) as caught:
        read_private_key_file(path, PASSPHRASE + " ")
    assert str(caught.value) == "wrong passphrase or damaged key file"
    assert "\n" not in str(caught.value)


def test_empty_passphrase_is_refused(tmp_path: Path, alice: KeyPair, kdf_cost: KdfCost) -> None:
    with pytest.raises(KeyFileError, match="non-empty"):
        write_private_key_file(tmp_path / "fp.key", alice, "", cost=kdf_cost)
    assert not (tmp_path / "fp.key").exists()


def test_swapped_public_key_is_detected(
    tmp_path: Path, alice: KeyPair, bob: KeyPair, kdf_cost: KdfCost
) -> None:
    path = _written(tmp_path, alice, kdf_cost)
    document = json.loads(path.read_text())
    document.update(public_key=b64e(bob.public_key), kid=bob.kid)
    path.write_text(json.dumps(document))
    with pytest.raises(KeyFileError, match="wrong passphrase or damaged key file"):
        read_private_key_file(path, PASSPHRASE)


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: d.update(v=2),
        lambda d: d.update(v=True),
        lambda d: d.update(kdf="scrypt"),
        lambda d: d.pop("salt"),
        lambda d: d.pop("nonce"),
        lambda d: d.update(salt=d["salt"][:-4]),
        lambda d: d.update(box="not base64!"),
        lambda d: d.update(kid="00" * 16),
        lambda d: d.update(opslimit=0),
        lambda d: d.update(memlimit="big"),
    ],
)
def test_malformed_key_files_are_one_line_errors(
    tmp_path: Path, alice: KeyPair, kdf_cost: KdfCost, damage: object
) -> None:
    path = _written(tmp_path, alice, kdf_cost)
    document = json.loads(path.read_text())
    assert callable(damage)
    damage(document)
    path.write_text(json.dumps(document))
    with pytest.raises(KeyFileError, match="malformed key file") as caught:
        read_private_key_file(path, PASSPHRASE)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("content", [b"", b"{", b"[]", b"\xff\xfe", b" " * (64 * 1024 + 1)])
def test_unreadable_key_files(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "fp.key"
    path.write_bytes(content)
    with pytest.raises(KeyFileError):
        read_private_key_file(path, PASSPHRASE)


def test_missing_key_file(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="cannot read key file"):
        read_private_key_file(tmp_path / "absent.key", PASSPHRASE)


def test_default_cost_is_moderate_or_stronger() -> None:
    default = inspect.signature(write_private_key_file).parameters["cost"].default
    assert default is KEYFILE_COST
    moderate = KdfCost(nacl_argon2id.OPSLIMIT_MODERATE, nacl_argon2id.MEMLIMIT_MODERATE)
    assert KEYFILE_COST.is_at_least(moderate)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"pass\n", "pass"),
        (b"pass\r\n", "pass"),
        (b"pass", "pass"),
        (b"pass\n\n", "pass\n"),
        (b"pass\r\n\r\n", "pass\r\n"),
        (b" pass \t\n", " pass \t"),
        (b"pass\r", "pass\r"),
        ("mot de passe — كلمة\n".encode(), "mot de passe — كلمة"),
    ],
)
def test_passphrase_file_loses_exactly_one_trailing_newline(
    tmp_path: Path, content: bytes, expected: str
) -> None:
    path = tmp_path / "pass.txt"
    path.write_bytes(content)
    assert read_passphrase_file(path) == expected


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "empty"), (b"\n", "empty"), (b"\r\n", "empty"), (b"pass\xff\n", "not UTF-8")],
)
def test_bad_passphrase_files(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "pass.txt"
    path.write_bytes(content)
    with pytest.raises(KeyFileError, match=message):
        read_passphrase_file(path)


def test_missing_passphrase_file(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="cannot read passphrase file"):
        read_passphrase_file(tmp_path / "absent.txt")


def test_keypairs_are_consistent_and_checked(alice: KeyPair, bob: KeyPair) -> None:
    assert generate_keypair() != alice
    assert keypair_from_seed(bytes(32)) == keypair_from_seed(bytes(32))
    assert public_key_b64(alice.public_key) == b64e(alice.public_key)
    with pytest.raises(CryptoError, match="does not belong"):
        KeyPair(public_key=bob.public_key, private_key=alice.private_key)
    with pytest.raises(CryptoError):
        KeyPair(public_key=alice.public_key[:31], private_key=alice.private_key)
    with pytest.raises(CryptoError):
        keypair_from_seed(bytes(31))
    with pytest.raises(CryptoError):
        public_key_b64(b"short")
