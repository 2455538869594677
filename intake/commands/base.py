"""What every command shares: user errors, settings and context loading."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Protocol

from pydantic import ValidationError

from intake.settings import Settings, describe_settings_error


class UserError(Exception):
    """A problem the user can fix; printed as one line, exit code 1 by default."""

    def __init__(self, message: str, *, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code

    def one_line(self) -> str:
        return " ".join(str(self).split())


class Subparsers(Protocol):
    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser: ...


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        raise UserError(describe_settings_error(exc)) from None


def read_text_file(path: Path, *, what: str) -> str:
    """A UTF-8 file the user named; a clear one-line error when it cannot be read."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{what} {path} does not exist") from None
    except IsADirectoryError:
        raise UserError(f"{what} {path} is a directory") from None
    except UnicodeDecodeError:
        raise UserError(f"{what} {path} is not UTF-8 text") from None
    except OSError as exc:
        raise UserError(f"cannot read {what} {path}: {exc.strerror}") from None


def read_secret_file(path: Path, *, what: str) -> str:
    """Password/passphrase files: UTF-8 with one trailing newline removed (SPEC section 9)."""
    text = read_text_file(path, what=what)
    for ending in ("\r\n", "\n"):
        if text.endswith(ending):
            return text[: -len(ending)]
    return text


def out(line: str) -> None:
    """One line of a command's result on stdout."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def err(line: str) -> None:
    """One line of diagnostics on stderr (problems, warnings, progress)."""
    sys.stderr.write(line + "\n")
    sys.stderr.flush()
