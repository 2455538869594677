"""Follow-up look-ups derive their receipt keys in a lane of their own.

A look-up costs one Argon2id run, like a new report, and anyone can ask for
one with a guessed receipt. Limits per address stop one guesser, not many;
so look-ups run on a few threads of their own, outside the receipt KDF pool
that new reports use, at a lower CPU priority. A flood of guesses from many
addresses then queues behind itself and slows the guesses, not new reports.
Its queue is bounded too (`BACKLOG` a thread): a caller waits in a server
thread, which new reports need as well, so past the backlog a look-up is
refused at once (`LookupsBusy`; the follow-up answers 429 with Retry-After)
instead of queueing without end. The threads bound the memory look-ups take
(19 MiB a run). `build_context` gives the lane a quarter of the reporters'
slots (one by default), which answered as many guesses a second as two on 2
CPUs (bench_abuse) and left reporters a CPU of their own.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from intake.priority import LOOKUP_NICENESS, lower_this_thread

T = TypeVar("T")
BACKLOG = 8  # look-ups waiting for each lane thread, at most (about 0.3 s of Argon2id)


class LookupsBusy(Exception):
    """Every lane thread is busy and the backlog is full: refuse, do not queue."""


class LookupLane:
    """At most `size` look-up derivations at once, on niced threads, and `backlog` waiting."""

    def __init__(self, size: int, *, backlog: int | None = None) -> None:
        waiting = BACKLOG * size if backlog is None else backlog
        self._admitted = threading.BoundedSemaphore(size + waiting)
        self._threads = ThreadPoolExecutor(
            max_workers=size,
            thread_name_prefix="lookup-kdf",
            initializer=lower_this_thread,
            initargs=(LOOKUP_NICENESS,),
        )

    def run(self, function: Callable[[], T]) -> T:
        """`function()` on a lane thread; the caller waits for its result or its error.

        Raises LookupsBusy at once when `size` run and `backlog` wait already.
        """
        if not self._admitted.acquire(blocking=False):
            raise LookupsBusy
        try:
            return self._threads.submit(function).result()
        finally:
            self._admitted.release()

    def close(self) -> None:
        self._threads.shutdown(wait=True)  # the backlog is bounded: let it finish
