"""Group commit: units share a transaction, fail alone, and answer only after the commit."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crypto.server_secret import ServerSecret
from intake import ratelimit
from intake.audit import trail as audit
from intake.db import in_batch, make_engine, make_sessionmaker
from intake.errors import TooManyRequests
from intake.models import AuditEvent, SystemValue, utcnow
from intake.reports.writer import BatchWriter
from intake.settings import RateLimit

T = TypeVar("T")


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


# --- a batch: units queued at the same moment run together, and fall back one by one -------


class Gate:
    """Holds the writer in a first unit so the next units queue up and form one batch."""

    def __init__(self, writer: BatchWriter) -> None:
        self.writer = writer
        self.opened = threading.Event()
        self.holding = threading.Event()
        self.pool = ThreadPoolExecutor(max_workers=16)
        self.first = self.pool.submit(writer.run, self._hold)

    def _hold(self, _session: Session) -> str:
        self.holding.set()
        self.opened.wait(timeout=30)
        return "gate"

    def queue(self, units: list[Callable[[Session], T]]) -> list[Future[T]]:
        assert self.holding.wait(timeout=30)
        futures = [self.pool.submit(self.writer.run, unit) for unit in units]
        deadline = time.monotonic() + 30
        while self.writer._jobs.qsize() < len(units) and time.monotonic() < deadline:  # noqa: SLF001
            time.sleep(0.01)
        self.opened.set()
        assert self.first.result(timeout=30) == "gate"
        return futures


def _unseen(name: str, seen: list[tuple[str, bool, int]]) -> Callable[[Session], str]:
    """A unit that adds a row without flushing, noting whether it ran in a batch."""

    def work(session: Session) -> str:
        seen.append((name, in_batch(session), id(session)))
        session.add(SystemValue(name=name, value=b"x"))
        if name.startswith("bad"):
            raise ValueError("refused")
        return name

    return work


def test_queued_units_run_together_in_one_session(writer: BatchWriter) -> None:
    seen: list[tuple[str, bool, int]] = []
    futures = Gate(writer).queue([_unseen(f"w-b{n}", seen) for n in range(5)])
    assert sorted(f.result(timeout=30) for f in futures) == [f"w-b{n}" for n in range(5)]
    assert all(batched for _name, batched, _session in seen)
    assert len({session for _name, _batched, session in seen}) == 1  # one batch, one session
    assert _names(writer) == {f"w-b{n}" for n in range(5)}


def test_a_failing_unit_sends_its_batch_back_one_by_one(writer: BatchWriter) -> None:
    seen: list[tuple[str, bool, int]] = []
    names = ["w-c0", "w-c1", "bad-c2", "w-c3"]
    futures = Gate(writer).queue([_unseen(name, seen) for name in names])
    outcomes = [f.exception(timeout=30) or f.result() for f in futures]
    assert [str(o) for o in outcomes] == ["w-c0", "w-c1", "refused", "w-c3"]
    assert _names(writer) == {"w-c0", "w-c1", "w-c3"}
    # Each unit ran twice: together (rolled back), then alone in its savepoint.
    assert [batched for _name, batched, _session in seen].count(False) == len(names)


def test_counters_are_counted_once_a_batch_and_the_excess_refused(
    writer: BatchWriter,
) -> None:
    limit, now = RateLimit.parse("3/hour"), utcnow()

    def counted(session: Session) -> str:
        if in_batch(session):
            ratelimit.record_at_batch_end(session, "test", b"s" * 32, limit, now)
        elif ratelimit.record(session, "test", b"s" * 32, limit, now) > limit.count:
            raise TooManyRequests(ratelimit.retry_after(limit, now))
        return "ok"

    futures = Gate(writer).queue([counted] * 5)
    errors = [f.exception(timeout=30) for f in futures]
    assert sum(isinstance(error, TooManyRequests) for error in errors) == 2
    with writer._sessions() as session:  # noqa: SLF001
        assert ratelimit.count(session, "test", b"s" * 32, limit, now) == 3


def test_audit_entries_of_one_batch_form_one_unbroken_chain(database_url: str) -> None:
    engine = make_engine(database_url)
    sessions = make_sessionmaker(engine, secret=ServerSecret(bytes(range(32))))
    batch_writer = BatchWriter(sessions, max_batch=8)
    try:

        def entry(n: int) -> Callable[[Session], int]:
            def work(session: Session) -> int:
                audit.append(session, actor="test", action="test.batched", detail={"n": n})
                return n

            return work

        futures = Gate(batch_writer).queue([entry(n) for n in range(6)])
        assert sorted(f.result(timeout=30) for f in futures) == list(range(6))
        with sessions() as session:
            assert audit.verify(session) is None
            details = session.scalars(
                select(AuditEvent.detail).where(AuditEvent.action == "test.batched")
            ).all()
            assert len(details) == 6
    finally:
        batch_writer.close()
        engine.dispose()
