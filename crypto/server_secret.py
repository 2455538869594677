"""The server secret: one random key in a 0600 file, never in the database.

Every keyed value the server computes (receipt look-ups, source hashes for rate
limits, phone number hashes, the SMS draft key) uses a sub-key derived from it
with its own BLAKE2b personalisation, so a database copy alone opens nothing.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from nacl.bindings import crypto_generichash_blake2b_salt_personal

SECRET_BYTES = 32


class SecretFileError(Exception):
    """The secret file exists but cannot be used (message names the path only)."""


@dataclass(frozen=True, repr=False)
class ServerSecret:
    master: bytes

    def subkey(self, purpose: str) -> bytes:
        """A 32-byte key for one purpose (personalisation is at most 16 bytes)."""
        person = purpose.encode("ascii")
        if len(person) > 16:
            raise ValueError("purpose names are at most 16 ASCII characters")
        return crypto_generichash_blake2b_salt_personal(
            b"", digest_size=32, key=self.master, person=person.ljust(16, b"\0")
        )

    def keyed_hash(self, purpose: str, data: bytes) -> bytes:
        return crypto_generichash_blake2b_salt_personal(
            data, digest_size=32, key=self.subkey(purpose)
        )

    def __repr__(self) -> str:
        return "ServerSecret(<hidden>)"


def load_or_create(path: Path) -> ServerSecret:
    """Read the secret file, creating it with mode 0600 when it is missing."""
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return _create(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise SecretFileError(f"cannot read secret file {path}") from exc
    try:
        master = bytes.fromhex(text)
    except ValueError:
        master = b""
    if len(master) != SECRET_BYTES:
        raise SecretFileError(
            f"secret file {path} is damaged (expected {SECRET_BYTES * 2} hex digits)"
        )
    return ServerSecret(master)


def _create(path: Path) -> ServerSecret:
    """Write the new secret beside the target, then link it into place.

    The link fails when another process won the race, and then we use theirs;
    nobody ever reads a half-written file.
    """
    master = secrets.token_bytes(SECRET_BYTES)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    staging = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    try:
        fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(master.hex() + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.link(staging, path)
    except FileExistsError:
        return load_or_create(path)
    except OSError as exc:
        raise SecretFileError(f"cannot create secret file {path}") from exc
    finally:
        staging.unlink(missing_ok=True)
    return ServerSecret(master)
