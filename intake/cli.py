"""`intake`: one console command, subcommands registered by `intake.commands`.

A user error prints exactly one line on stderr and exits non-zero: no
traceback, no usage synopsis (SPEC section 9).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from intake.commands import register_all
from intake.commands.base import UserError, err


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UserError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="intake", description="psea-intake: safe intake of SEA complaints.")
    subcommands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    register_all(subcommands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        code: int = args.handler(args)
    except UserError as exc:
        err(f"intake: {exc.one_line()}")
        return exc.exit_code
    except KeyboardInterrupt:
        err("intake: interrupted")
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
