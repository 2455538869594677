"""`intake keys new` and `intake case decrypt`: a focal point's own-device tools.

Neither touches the server's database: a private key never reaches the server.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path
from typing import Any

from crypto.envelope import case_aad, kid_of, open_envelope
from crypto.errors import CryptoError
from crypto.keys import (
    KeyPair,
    generate_keypair,
    public_key_b64,
    read_private_key_file,
    write_private_key_file,
)
from intake.commands.base import Subparsers, UserError, out, read_secret_file, read_text_file

MIN_PASSPHRASE = 8


def register(subcommands: Subparsers) -> None:
    keys = subcommands.add_parser("keys", help="focal point key pairs")
    actions = keys.add_subparsers(dest="keys_command", required=True)
    new = actions.add_parser("new", help="create a passphrase-protected key pair")
    new.add_argument("--out", type=Path, required=True)
    new.add_argument("--passphrase-file", type=Path)
    new.set_defaults(handler=run_new)

    case = subcommands.add_parser("case", help="work with a saved case")
    case_actions = case.add_subparsers(dest="case_command", required=True)
    decrypt = case_actions.add_parser("decrypt", help="open a saved case with your private key")
    decrypt.add_argument("--key", type=Path, required=True)
    decrypt.add_argument("--passphrase-file", type=Path)
    decrypt.add_argument("case_file", type=Path)
    decrypt.set_defaults(handler=run_decrypt)


def _passphrase(path: Path | None, *, confirm: bool) -> str:
    if path is not None:
        return read_secret_file(path, what="passphrase file")
    if not sys.stdin.isatty():
        raise UserError("no passphrase: use --passphrase-file or run in a terminal")
    first = getpass.getpass("Passphrase: ")
    if confirm and getpass.getpass("Repeat passphrase: ") != first:
        raise UserError("the passphrases do not match")
    return first


def run_new(args: argparse.Namespace) -> int:
    passphrase = _passphrase(args.passphrase_file, confirm=True)
    if len(passphrase) < MIN_PASSPHRASE:
        raise UserError(f"the passphrase must have at least {MIN_PASSPHRASE} characters")
    if args.out.exists():
        raise UserError(f"{args.out} already exists; choose another file")
    if not args.out.parent.is_dir():
        raise UserError(f"folder {args.out.parent} does not exist")
    keypair = generate_keypair()
    try:
        write_private_key_file(args.out, keypair, passphrase)
    except CryptoError as exc:
        raise UserError(str(exc)) from None
    public = keypair.public_key
    out(json.dumps({"kid": kid_of(public), "public_key": public_key_b64(public)}))
    return 0


def run_decrypt(args: argparse.Namespace) -> int:
    saved = _saved_case(args.case_file)
    keypair = _private_key(args.key, args.passphrase_file)
    try:
        content = open_envelope(
            saved["envelope"], private_key=keypair.private_key, aad=case_aad(saved["case_ref"])
        )
    except CryptoError as exc:
        raise UserError(f"cannot open case {saved['case_ref']}: {exc}") from None
    out(json.dumps(content, ensure_ascii=False, indent=2))
    return 0


def _private_key(path: Path, passphrase_file: Path | None) -> KeyPair:
    if path.is_dir():
        raise UserError(f"key file {path} is a directory")
    if not path.is_file():
        raise UserError(f"key file {path} does not exist")
    try:
        return read_private_key_file(path, _passphrase(passphrase_file, confirm=False))
    except CryptoError as exc:
        raise UserError(str(exc)) from None


def _saved_case(path: Path) -> dict[str, Any]:
    text = read_text_file(path, what="case file")
    try:
        saved = json.loads(text)
    except json.JSONDecodeError:
        raise UserError(f"case file {path} is not JSON") from None
    if (
        not isinstance(saved, dict)
        or not isinstance(saved.get("case_ref"), str)
        or not isinstance(saved.get("envelope"), dict)
    ):
        raise UserError(f"case file {path} must hold the case_ref and envelope of a saved case")
    return saved
