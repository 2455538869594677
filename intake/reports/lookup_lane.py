"""Follow-up look-ups derive their receipt keys in a lane of their own.

A look-up costs one Argon2id run, like a new report, and anyone can ask for
one with a guessed receipt. Limits per address stop one guesser, not many;
so look-ups run on a few threads of their own, outside the receipt KDF pool
that new reports use, at a lower CPU priority. A flood of guesses from many
addresses then queues behind itself and slows the guesses, not new reports.
The lane's threads also bound the memory look-ups can take (19 MiB a run);
`build_context` gives it a quarter of the reporters' slots (one by default),
which answered as many guesses a second as two on 2 CPUs (bench_abuse), and
left reporters a CPU of their own.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from intake.priority import LOOKUP_NICENESS, lower_this_thread

T = TypeVar("T")


class LookupLane:
    """At most `size` look-up derivations at once, on niced threads."""

    def __init__(self, size: int) -> None:
        self._threads = ThreadPoolExecutor(
            max_workers=size,
            thread_name_prefix="lookup-kdf",
            initializer=lower_this_thread,
            initargs=(LOOKUP_NICENESS,),
        )

    def run(self, function: Callable[[], T]) -> T:
        """`function()` on a lane thread; the caller waits for its result or its error."""
        return self._threads.submit(function).result()

    def close(self) -> None:
        self._threads.shutdown(wait=True, cancel_futures=True)
