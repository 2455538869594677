"""Opening the application's context for a command, with user errors for the usual failures."""

from __future__ import annotations

from sqlalchemy.exc import SQLAlchemyError

from channels.registry import installed
from crypto.server_secret import SecretFileError
from intake.app import build_context
from intake.commands.base import UserError
from intake.commands.db import apply_migrations
from intake.context import AppContext
from intake.settings import Settings


def open_context(settings: Settings, *, migrate: bool = True) -> AppContext:
    """The database (migrated first unless `migrate` is false) and the secret file."""
    if migrate:
        apply_migrations(settings.resolved_database_url)
    try:
        return build_context(settings, channels=installed())
    except SecretFileError as exc:
        raise UserError(str(exc)) from None
    except SQLAlchemyError as exc:
        raise UserError(
            f"cannot open the database ({type(exc).__name__}); run `intake db upgrade`"
        ) from None
