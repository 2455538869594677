"""Group commit: units share a transaction, fail alone, and answer only after the commit."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from intake.db import make_engine, make_sessionmaker
from intake.models import SystemValue
from intake.reports.writer import BatchWriter


@pytest.fixture
def writer(database_url: str) -> BatchWriter:
    engine = make_engine(database_url)
    batch_writer = BatchWriter(make_sessionmaker(engine), max_batch=8)
    yield batch_writer  # type: ignore[misc]
    batch_writer.close()
    engine.dispose()


def _add(name: str) -> object:
    def work(session: Session) -> str:
        session.add(SystemValue(name=name, value=b"x"))
        session.flush()
        if name.startswith("bad"):
            raise ValueError("refused")
        return name

    return work


def _names(writer: BatchWriter) -> set[str]:
    with writer._sessions() as session:  # noqa: SLF001 - reading back what the writer stored
        return set(session.scalars(select(SystemValue.name).where(SystemValue.name.like("w-%"))))


def test_concurrent_units_are_all_committed(writer: BatchWriter) -> None:
    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(lambda n: writer.run(_add(f"w-{n}")), range(64)))  # type: ignore[arg-type]
    assert sorted(results) == sorted(f"w-{n}" for n in range(64))
    assert _names(writer) == set(results)


def test_a_failing_unit_rolls_back_alone(writer: BatchWriter) -> None:
    def run(name: str) -> str:
        try:
            return str(writer.run(_add(name)))  # type: ignore[arg-type]
        except ValueError:
            return "refused"

    names = [f"w-ok-{n}" if n % 3 else f"bad-{n}" for n in range(30)]
    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(run, names))
    assert results.count("refused") == 10
    assert _names(writer) == {name for name in names if name.startswith("w-")}
    with writer._sessions() as session:  # noqa: SLF001
        assert session.scalar(select(func.count()).where(SystemValue.name.like("bad-%"))) == 0


def test_a_unit_failing_at_flush_fails_alone(writer: BatchWriter) -> None:
    writer.run(_add("w-dup"))  # type: ignore[arg-type]
    # A duplicate primary key fails at flush inside its savepoint: only that caller fails.
    with pytest.raises(Exception, match="(?i)unique|duplicate"):
        writer.run(_add("w-dup"))  # type: ignore[arg-type]
    assert "w-dup" in _names(writer)
