"""Group commit: one writer thread per process runs queued units of work, many per transaction.

Each report costs one durable commit (an fsync on SQLite); under load, the
reports waiting at the same moment share one. Every unit runs in its own
savepoint, so one failing unit (a limit, a collision) rolls back alone, and
each caller gets its result only after the shared commit succeeded: nothing is
acknowledged that is not durable. If the commit itself fails, every unit of the
batch gets that error.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from sqlalchemy.orm import Session, sessionmaker

T = TypeVar("T")
log = logging.getLogger("intake.reports.writer")
MAX_BATCH = 32

_Job = tuple[Callable[[Session], Any], "Future[Any]"]


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
        outcomes: list[tuple[Future[Any], Any, BaseException | None]] = []
        try:
            with self._sessions() as session, session.begin():
                for work, future in batch:
                    outcomes.append(_run_in_savepoint(session, work, future))
        except Exception as exc:  # noqa: BLE001 - the commit failed: every caller learns it
            log.exception("batch commit failed", extra={"count": len(batch)})
            for _work, future in batch:
                future.set_exception(exc)
            return
        for future, value, error in outcomes:
            if error is None:
                future.set_result(value)
            else:
                future.set_exception(error)


def _run_in_savepoint(
    session: Session, work: Callable[[Session], Any], future: Future[Any]
) -> tuple[Future[Any], Any, BaseException | None]:
    try:
        with session.begin_nested():
            return future, work(session), None
    except Exception as exc:  # noqa: BLE001 - handed to the caller, who raised it in effect
        return future, None, exc
