"""`intake.db.reading`: the reads before a report's write do not queue for SQLite's write lock."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from intake.db import make_engine, make_sessionmaker, reading, transaction


def test_a_reading_session_reads_while_a_writer_holds_the_lock(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'intake.db'}")
    sessions = make_sessionmaker(engine)
    with transaction(sessions) as setup:
        setup.execute(text("CREATE TABLE probe (x INTEGER)"))
        setup.execute(text("INSERT INTO probe VALUES (1)"))
    with transaction(sessions) as writer:  # BEGIN IMMEDIATE: holds the write lock
        writer.execute(text("INSERT INTO probe VALUES (2)"))
        with reading(sessions) as reader:  # a snapshot: the committed row only, no waiting
            assert reader.execute(text("SELECT x FROM probe")).scalars().all() == [1]
    with reading(sessions) as reader:
        assert sorted(reader.execute(text("SELECT x FROM probe")).scalars()) == [1, 2]
    engine.dispose()


def test_a_connection_used_for_reading_is_transactional_again_afterwards(
    database_url: str,
) -> None:
    # On PostgreSQL `reading` runs in autocommit; the pool must hand the connection
    # back to writers transactional, or a rolled-back write would stay.
    engine = make_engine(database_url, pool_size=1)
    sessions = make_sessionmaker(engine)
    with transaction(sessions) as setup:
        setup.execute(text("CREATE TABLE probe_tx (x INTEGER)"))
    with reading(sessions) as reader:
        assert reader.execute(text("SELECT count(*) FROM probe_tx")).scalar() == 0
    with sessions() as session:
        session.begin()
        session.execute(text("INSERT INTO probe_tx VALUES (1)"))
        session.rollback()
    with reading(sessions) as reader:
        assert reader.execute(text("SELECT count(*) FROM probe_tx")).scalar() == 0
    engine.dispose()
