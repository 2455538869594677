"""`intake serve`: migrate, load the routing table, then serve HTTP."""

from __future__ import annotations

import argparse
import logging

import uvicorn
from fastapi import FastAPI
from sqlalchemy import select

from channels.registry import installed
from crypto.server_secret import SecretFileError, load_or_create
from intake.app import create_app
from intake.commands.base import Subparsers, UserError, err, load_settings
from intake.commands.db import apply_migrations
from intake.commands.routing import table_problems
from intake.db import make_engine, make_sessionmaker, transaction
from intake.http.server import PROTOCOL
from intake.logs import configure_logging
from intake.models import RoutingTableVersion
from intake.routing_tables.demo import demo_keys_dir, ensure_demo_table
from intake.routing_tables.store import store_table
from intake.settings import Settings
from intake.worker.notify import MailTransport
from routing.table import TableInvalid

log = logging.getLogger("intake.serve")
DEMO_LOADER = "intake serve (demo)"
FILE_LOADER = "intake serve"
MAIL_WAITS = (
    "alerts: no mail transport is configured (INTAKE_SMTP_HOST, INTAKE_SMTP_FROM), so alerts "
    "to mailto: addresses will wait in the outbox; `intake worker` sends them once it is set"
)
INSECURE_KDF_WARNING = (
    "WARNING: INTAKE_INSECURE_TEST_KDF is set: receipts are weak (minimum Argon2id cost, "
    "easy to guess); for tests only, never for real reports"
)


def register(subcommands: Subparsers) -> None:
    serve = subcommands.add_parser("serve", help="run the HTTP service")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if not 0 < args.port < 65536:
        raise UserError("--port must be between 1 and 65535")
    if args.workers < 1:
        raise UserError("--workers must be at least 1")
    settings = load_settings()
    if settings.sms_enabled and settings.public_url is None:
        raise UserError(
            "INTAKE_TWILIO_AUTH_TOKEN needs INTAKE_PUBLIC_URL: Twilio signatures are checked "
            "against the public URL, never the Host header"
        )
    routing_text = read_routing_file(settings)  # a bad table stops us before anything else
    configure_logging(settings.log_level)
    try:
        load_or_create(settings.resolved_secret_file)
    except SecretFileError as exc:
        raise UserError(str(exc)) from None
    apply_migrations(settings.resolved_database_url)
    announce(load_routing_at_start(settings, routing_text), settings)
    if MailTransport.from_settings(settings) is None:
        err(MAIL_WAITS)
    if settings.insecure_test_kdf:
        err(INSECURE_KDF_WARNING)
    uvicorn.run(
        "intake.commands.serve:app_from_environment",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        access_log=False,
        log_config=None,
        server_header=False,
        proxy_headers=False,
        # h11 caps request heads (16 KiB); httptools accepts megabytes of headers. Ours adds
        # the slow-client deadline (INTAKE_REQUEST_TIMEOUT_S); beyond INTAKE_MAX_CONNECTIONS
        # connections (or requests in progress) uvicorn answers 503.
        http=PROTOCOL,
        limit_concurrency=settings.max_connections,
        # Importing the app can take more than uvicorn's 5 s on a loaded 2-core machine.
        timeout_worker_healthcheck=60,
    )
    return 0


def read_routing_file(settings: Settings) -> str | None:
    """INTAKE_ROUTING_FILE's text, validated; None when the variable is not set."""
    path = settings.routing_file
    if path is None:
        return None
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        raise UserError(f"routing table {path} cannot be read") from None
    problems, _warnings = table_problems(text, settings)
    if problems:
        raise UserError(
            f"routing table {path} is invalid ({len(problems)} problems); "
            f"run `intake routing check {path}`"
        )
    return text


def load_routing_at_start(settings: Settings, routing_text: str | None) -> str:
    """Store the table this start runs on; returns how it was chosen."""
    if routing_text is not None:
        _store(settings, routing_text, loaded_by=FILE_LOADER, what=str(settings.routing_file))
        return "file"
    engine = make_engine(settings.resolved_database_url)
    try:
        with make_sessionmaker(engine)() as session:
            last_loader = session.scalars(
                select(RoutingTableVersion.loaded_by).order_by(RoutingTableVersion.id.desc())
            ).first()
    finally:
        engine.dispose()
    if last_loader is not None and last_loader not in (DEMO_LOADER,):
        return "kept"
    _store(settings, ensure_demo_table(settings.data_dir), loaded_by=DEMO_LOADER, what="demo")
    return "demo"


def _store(settings: Settings, text: str, *, loaded_by: str, what: str) -> None:
    engine = make_engine(settings.resolved_database_url)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            store_table(session, text, loaded_by=loaded_by)
    except TableInvalid as exc:
        raise UserError(
            f"routing table {what} is invalid ({len(exc.problems)} problems); "
            f"run `intake routing check {what}`"
        ) from None
    finally:
        engine.dispose()


def announce(how: str, settings: Settings) -> None:
    if how == "demo":
        keys = demo_keys_dir(settings.data_dir).resolve()
        lines = [
            "*** DEMO ROUTING TABLE: INTAKE_ROUTING_FILE is not set. ***",
            "*** This server runs on a demo routing table with generated demo focal point keys.",
            f"*** Demo keys (and their passphrase file) are in {keys}",
            "*** Never take real reports on it: set INTAKE_ROUTING_FILE to your routing table.",
        ]
        for line in lines:
            err(line)
    elif how == "kept":
        err(
            "routing: INTAKE_ROUTING_FILE is not set; keeping the table last loaded "
            "with `intake routing load`"
        )


def app_from_environment() -> FastAPI:
    """Factory for uvicorn (`intake serve`, also with several workers): every channel installed."""
    settings = Settings()
    configure_logging(settings.log_level)
    return create_app(settings, channels=installed())
