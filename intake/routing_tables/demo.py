"""The demo routing table and its focal point keys, for trying the service out.

Keys are generated once into `$INTAKE_DATA_DIR/demo-keys/`, protected by the
passphrase written beside them: anyone with the data folder can read demo
cases, which is the point of a demo and the reason it must never hold real
reports.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from crypto.kdf import KdfCost
from crypto.keys import (
    generate_keypair,
    public_key_b64,
    read_private_key_file,
    write_private_key_file,
)
from routing.table import DEMO_FOCAL_POINT_IDS, demo_table_text

ESCROW_ID = "escrow"
PASSPHRASE_FILE = "passphrase.txt"  # noqa: S105 - a file name, not a password
# Interactive-level cost: these keys guard demo data only and are made at first start.
DEMO_KEY_COST = KdfCost(opslimit=2, memlimit=64 * 1024 * 1024)


def demo_keys_dir(data_dir: Path) -> Path:
    return data_dir / "demo-keys"


def ensure_demo_table(data_dir: Path) -> str:
    """The demo table's TOML, generating missing demo key pairs first."""
    folder = demo_keys_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    passphrase = _passphrase(folder)
    public = {
        focal_point: _public_key(folder / f"{focal_point}.key", passphrase)
        for focal_point in (*DEMO_FOCAL_POINT_IDS, ESCROW_ID)
    }
    escrow = public.pop(ESCROW_ID)
    return demo_table_text(public_keys=public, escrow_public_key=escrow)


def _passphrase(folder: Path) -> str:
    path = folder / PASSPHRASE_FILE
    if not path.exists():
        path.write_text(secrets.token_urlsafe(12) + "\n", encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").rstrip("\n")


def _public_key(path: Path, passphrase: str) -> str:
    if path.exists():
        return public_key_b64(read_private_key_file(path, passphrase).public_key)
    keypair = generate_keypair()
    write_private_key_file(path, keypair, passphrase, cost=DEMO_KEY_COST)
    return public_key_b64(keypair.public_key)
