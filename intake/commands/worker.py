"""`intake worker [--once]`: drain the outbox and mark overdue cases (docs/worker.md)."""

from __future__ import annotations

import argparse
import signal
import threading
from types import FrameType

from sqlalchemy.exc import SQLAlchemyError

from intake.commands.base import Subparsers, UserError, load_settings
from intake.commands.contexts import open_context
from intake.logs import configure_logging
from intake.worker.run import Worker

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def register(subcommands: Subparsers) -> None:
    worker = subcommands.add_parser(
        "worker", help="drain the outbox and mark overdue cases; several may run at once"
    )
    worker.add_argument("--once", action="store_true", help="make one pass and exit")
    worker.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    settings = load_settings()
    configure_logging(settings.log_level)
    context = open_context(settings, migrate=False)
    try:
        worker = Worker(context)
        if args.once:
            worker.run_once()
        else:
            worker.run_forever(stop_on_signals())
    except SQLAlchemyError as exc:
        raise UserError(f"database error: {type(exc).__name__}") from None
    finally:
        context.close()
    return 0


def stop_on_signals() -> threading.Event:
    """An event set by the first SIGINT/SIGTERM; a second one stops at once."""
    stop = threading.Event()

    def _handle(signum: int, _frame: FrameType | None) -> None:
        stop.set()
        for number in STOP_SIGNALS:
            signal.signal(number, signal.SIG_DFL)

    for number in STOP_SIGNALS:
        signal.signal(number, _handle)
    return stop
