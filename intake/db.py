"""Engines and sessions: SQLite (WAL) as the embedded default, PostgreSQL in production."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from crypto.server_secret import ServerSecret

# `intake.audit.trail.SECRET_INFO`: the key under which sessions carry the server secret.
AUDIT_SECRET_INFO = "server_secret"  # noqa: S105 - a dictionary key, not a secret


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    """An engine tuned for its backend.

    SQLite: WAL so readers never block the writer, `synchronous=FULL` because a
    receipt promises the report survives a power cut, a busy timeout so
    concurrent writers queue instead of failing, and `BEGIN IMMEDIATE` so a
    transaction takes the write lock up front rather than deadlocking on upgrade.
    """
    if is_sqlite(url):
        return _sqlite_engine(url)
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


def _sqlite_engine(url: str) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def make_sessionmaker(
    engine: Engine, *, secret: ServerSecret | None = None
) -> sessionmaker[Session]:
    """Sessions; with `secret` they may extend the keyed audit trail (`Session.info`)."""
    info = {} if secret is None else {AUDIT_SECRET_INFO: secret}
    return sessionmaker(engine, expire_on_commit=False, info=info)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any exception."""
    with factory() as session, session.begin():
        yield session
