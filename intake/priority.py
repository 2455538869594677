"""CPU priority of one thread: background and guessable work yields to new reports."""

from __future__ import annotations

import contextlib
import os
import threading

LOOKUP_NICENESS = 19  # follow-up look-ups (anyone may guess): after everything else
IDLE_NICENESS = 10  # receipts made ahead: after requests, before guesses


def lower_this_thread(niceness: int) -> None:
    """Nice the calling thread alone to at least `niceness` (on Linux a thread is a task)."""
    with contextlib.suppress(AttributeError, OSError):  # not Linux: still correct, less polite
        task = threading.get_native_id()
        current = os.getpriority(os.PRIO_PROCESS, task)
        os.setpriority(os.PRIO_PROCESS, task, max(current, niceness))  # never raises priority
