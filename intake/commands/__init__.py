"""Subcommands of `intake`; each module registers its own parsers."""

from __future__ import annotations

from intake.commands import (
    audit,
    db,
    export,
    hotline,
    keys,
    retention,
    routing,
    serve,
    users,
    voice,
    worker,
)
from intake.commands.base import Subparsers


def register_all(subcommands: Subparsers) -> None:
    for module in (
        serve,
        db,
        keys,
        routing,
        hotline,
        voice,
        worker,
        users,
        audit,
        export,
        retention,
    ):
        module.register(subcommands)
