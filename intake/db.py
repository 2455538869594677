"""Engines and sessions: SQLite (WAL) as the embedded default, PostgreSQL in production."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Engine, FromClause, Table, create_engine, event, insert
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from crypto.server_secret import ServerSecret

# `intake.audit.trail.SECRET_INFO`: the key under which sessions carry the server secret.
PRIVATE_DIR, PRIVATE_FILE = 0o700, 0o600
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")
AUDIT_SECRET_INFO = "server_secret"  # noqa: S105 - a dictionary key, not a secret
READ_ONLY = "intake_read_only"  # the execution option `reading` sets
_BATCHED = "intake.batched"  # Session.info: the group-commit writer's units share one flush
_AT_END = "intake.batch_end"  # Session.info: callbacks run before that flush
_ROWS = "intake.batch_rows"  # Session.info: rows inserted at the batch's end, by table
Rows = Callable[[], list[dict[str, Any]]]


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def make_engine(url: str, *, pool_size: int = 20) -> Engine:
    """An engine tuned for its backend.

    SQLite: WAL so readers never block the writer, `synchronous=FULL` because a
    receipt promises the report survives a power cut, a busy timeout so
    concurrent writers queue instead of failing, and `BEGIN IMMEDIATE` so a
    transaction takes the write lock up front rather than deadlocking on upgrade.

    `pool_size` connections stay open: about one for each request in progress
    (the sync endpoints' thread pool), since a connection beyond the pool is
    closed when given back, and opening one costs more than a report's reads.
    """
    if is_sqlite(url):
        return _sqlite_engine(url, pool_size)
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


def private_dir(path: Path) -> None:
    """Create a folder (and its missing parents) readable by this user only (0700)."""
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)


def private_sqlite_files(database: Path) -> None:
    """The database, its -wal and -shm: 0600, narrowed when wider (SPEC 15).

    SQLite creates -wal and -shm with the database file's mode, so a 0600
    database keeps them 0600; an older or copied file set is narrowed here.
    A new database file is created 0600 before SQLite opens it.
    """
    private_dir(database.parent)
    with suppress(FileExistsError):
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
    for path in (database, *(database.with_name(database.name + s) for s in SQLITE_SIDE_FILES)):
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
            if mode & ~PRIVATE_FILE:
                path.chmod(mode & PRIVATE_FILE)
        except FileNotFoundError:
            continue


def _sqlite_engine(url: str, pool_size: int) -> Engine:
    database = make_url(url).database
    on_disk = None
    if database and database != ":memory:" and not database.startswith("file:"):
        on_disk = Path(database)
        private_sqlite_files(on_disk)
    # An in-memory database has one connection (SingletonThreadPool): no pool to size.
    in_memory = not database or ":memory:" in database or "mode=memory" in url
    pool = {} if in_memory else {"pool_size": pool_size, "max_overflow": pool_size}
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **pool)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        # Deleted rows (a purged reply, an expired draft) are overwritten, not left in free pages.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()
        if on_disk is not None:
            private_sqlite_files(on_disk)  # -wal and -shm now exist

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A writer takes the lock at BEGIN (no deadlock on upgrade); a reader (`reading`) reads
        # a WAL snapshot and neither waits for the group-commit writer nor delays it.
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


def make_sessionmaker(
    engine: Engine, *, secret: ServerSecret | None = None
) -> sessionmaker[Session]:
    """Sessions; with `secret` they may extend the keyed audit trail (`Session.info`)."""
    info = {} if secret is None else {AUDIT_SECRET_INFO: secret}
    return sessionmaker(engine, expire_on_commit=False, info=info)


@contextmanager
def reading(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session that only reads, for checks that are made again inside the write.

    On SQLite a snapshot (a deferred BEGIN), rolled back at the end: every other
    transaction begins IMMEDIATE and so queues for the one write lock; the checks
    a report makes before its write (rate limits, the active routing table)
    waited there behind every batch commit, unfairly (the busy handler sleeps and
    retries), and made most of a report's p99. On PostgreSQL autocommit: each
    read sees what is committed, without the BEGIN and ROLLBACK round trips.
    """
    with factory() as session:
        options: dict[str, Any] = {READ_ONLY: True}
        if session.get_bind().dialect.name == "postgresql":
            options["isolation_level"] = "AUTOCOMMIT"
        session.connection(execution_options=options)
        yield session


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any exception."""
    with factory() as session, session.begin():
        yield session


def mark_batched(session: Session) -> None:
    """The group-commit writer runs several units in `session` with one flush at the end."""
    session.info[_BATCHED] = True


def in_batch(session: Session) -> bool:
    """True while a batch's units run together: defer flushes and counting to `at_batch_end`."""
    return bool(session.info.get(_BATCHED))


def at_batch_end(session: Session, key: str, callback: Callable[[Session], None]) -> None:
    """Run `callback(session)` once (per key), after every unit and before the batch's flush.

    If it raises, the batch is rolled back and its units run again one by one.
    """
    session.info.setdefault(_AT_END, {}).setdefault(key, callback)


def run_batch_end(session: Session) -> None:
    """The writer's side of `at_batch_end`."""
    for callback in session.info.pop(_AT_END, {}).values():
        callback(session)


def insert_rows(session: Session, table: FromClause, rows: Rows) -> None:
    """Insert `rows()`, which may name ids of objects added before (a new case's id).

    Outside a batch: flushed and inserted now. In a batch of the group-commit
    writer: at its end, after one flush, with one executemany per table (in the
    order tables were first given) instead of an ORM object and a statement a row.
    """
    if not in_batch(session):
        session.flush()
        session.execute(insert(cast(Table, table)), rows())
        return
    session.info.setdefault(_ROWS, {}).setdefault(table, []).append(rows)
    at_batch_end(session, _ROWS, _insert_pending_rows)


def _insert_pending_rows(session: Session) -> None:
    session.flush()
    pending: dict[Table, list[Rows]] = session.info.pop(_ROWS, {})
    for table, factories in pending.items():
        session.execute(insert(table), [row for rows in factories for row in rows()])
