"""The embedded database on disk: private folder and files, deleted rows overwritten."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from intake.commands.contexts import open_context
from intake.db import make_engine
from intake.settings import Settings


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def _permissive_umask() -> Iterator[None]:
    """The usual 022: files would be world-readable unless the code narrows them."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_a_fresh_data_dir_and_database_are_private(tmp_path: Path) -> None:
    data_dir = tmp_path / "fresh" / "var"
    context = open_context(Settings(data_dir=data_dir, insecure_test_kdf=True))
    try:
        with context.engine.connect() as connection:
            connection.exec_driver_sql("CREATE TABLE probe (x INTEGER)")
            connection.exec_driver_sql("INSERT INTO probe VALUES (1)")
            connection.commit()
            database = data_dir / "intake.db"
            assert mode(data_dir) == 0o700
            for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
                assert path.exists(), path
                assert mode(path) == 0o600, path
    finally:
        context.close()


def test_wider_database_files_are_narrowed_at_start(tmp_path: Path) -> None:
    database = tmp_path / "intake.db"
    url = f"sqlite:///{database}"
    engine = make_engine(url)
    with engine.connect() as connection:
        connection.exec_driver_sql("CREATE TABLE probe (x INTEGER)")
        connection.commit()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{database}{suffix}").chmod(0o666)
        engine.dispose()
    assert mode(database) == 0o666
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
            for suffix in ("", "-wal", "-shm"):
                path = Path(f"{database}{suffix}")
                if path.exists():
                    assert mode(path) == 0o600, path
        assert mode(database) == 0o600
    finally:
        engine.dispose()


def test_sqlite_overwrites_deleted_content(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'intake.db'}")
    try:
        with engine.connect() as connection:
            assert connection.execute(text("PRAGMA secure_delete")).scalar() == 1
    finally:
        engine.dispose()
