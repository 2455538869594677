"""Group commit: one writer thread per process runs queued units of work, many per transaction.

Each report costs one durable commit (an fsync on SQLite); under load, the
reports waiting at the same moment share one. A batch first runs all its
units together with one flush at the end (`intake.db.in_batch`: units
defer their flushes and counters), which turns a dozen statements a
report into a few a batch. If anything in that attempt fails, it is rolled
back and the units run again one by one, each in its own savepoint, so a
failing unit (a limit, a collision) rolls back alone. Each caller gets its
result only after the shared commit succeeded: nothing is acknowledged that
is not durable. If the commit itself fails, every unit of the batch gets that
error.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from intake.db import mark_batched, run_batch_end

T = TypeVar("T")
log = logging.getLogger("intake.reports.writer")
MAX_BATCH = 32

_Job = tuple[Callable[[Session], Any], "Future[Any]"]
_Outcome = tuple["Future[Any]", Any, BaseException | None]


class BatchWriter:
    def __init__(self, sessions: sessionmaker[Session], *, max_batch: int = MAX_BATCH) -> None:
        self._sessions = sessions
        self._max_batch = max_batch
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def run(self, work: Callable[[Session], T]) -> T:
        """Run `work(session)` in a shared transaction; return once it is committed."""
        future: Future[T] = Future()
        self._ensure_started()
        self._jobs.put((work, future))
        return future.result()

    def close(self) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._jobs.put(None)
            thread.join(timeout=30)

    def _ensure_started(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._loop, name="intake-writer", daemon=True
                )
                self._thread.start()

    def _loop(self) -> None:
        while True:
            first = self._jobs.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < self._max_batch:
                try:
                    job = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if job is None:
                    self._jobs.put(None)  # stop after this batch
                    break
                batch.append(job)
            self._commit(batch)

    def _commit(self, batch: list[_Job]) -> None:
        outcomes: list[_Outcome] | None = None
        try:
            outcomes = self._together(batch)
        except _Retry:
            pass
        except Exception as exc:  # noqa: BLE001 - the commit failed: every caller learns it
            self._fail(batch, exc)
            return
        if outcomes is None:
            try:
                outcomes = self._one_by_one(batch)
            except Exception as exc:  # noqa: BLE001 - as above
                self._fail(batch, exc)
                return
        for future, value, error in outcomes:
            if error is None:
                future.set_result(value)
            else:
                future.set_exception(error)

    def _together(self, batch: list[_Job]) -> list[_Outcome]:
        """Every unit in one transaction and one flush; raises _Retry if any part failed."""
        with self._sessions() as session:
            mark_batched(session)
            transaction = session.begin()
            try:
                with session.no_autoflush:
                    values = [work(session) for work, _future in batch]
                    run_batch_end(session)
                session.flush()
            except Exception as exc:  # noqa: BLE001 - whoever failed learns it on the retry
                transaction.rollback()
                if len(batch) == 1:  # its failure is its own: no second attempt
                    return [(batch[0][1], None, exc)]
                raise _Retry from None
            transaction.commit()  # a failure here reaches every caller (`_commit`)
            outcomes = zip((future for _work, future in batch), values, strict=True)
            return [(future, value, None) for future, value in outcomes]

    def _one_by_one(self, batch: list[_Job]) -> list[_Outcome]:
        with self._sessions() as session, session.begin():
            return [_run_in_savepoint(session, work, future) for work, future in batch]

    @staticmethod
    def _fail(batch: list[_Job], exc: Exception) -> None:
        log.exception("batch commit failed", extra={"count": len(batch)})
        for _work, future in batch:
            future.set_exception(exc)


class _Retry(Exception):
    """The batch attempt failed before its commit: run the units one by one."""


def _run_in_savepoint(
    session: Session, work: Callable[[Session], Any], future: Future[Any]
) -> _Outcome:
    try:
        with session.begin_nested():
            return future, work(session), None
    except Exception as exc:  # noqa: BLE001 - handed to the caller, who raised it in effect
        return future, None, exc
