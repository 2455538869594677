"""Receipts made ahead, in idle time, so a report does not wait for their Argon2id.

A receipt is random and independent of the report it will name (SPEC 8), so
its lookup value and key pair can be derived before anyone reports. One
background thread keeps up to `size` of them in memory (never on disk; a
restart loses them, which costs nothing) and hands each out once. It works
only in idle time: it takes a KDF slot only when one is free, and runs at the
lowest CPU priority, so under a burst reports cost sealing and one commit, and
under sustained load every report derives its own receipt as before.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from typing import Generic, TypeVar

from intake.priority import IDLE_NICENESS, lower_this_thread

log = logging.getLogger("intake.reports")
T = TypeVar("T")
_BUSY_WAIT_S = 0.02  # how long the filler steps back when every KDF slot is taken
_ERROR_WAIT_S = 1.0


class ReceiptPool(Generic[T]):
    """Up to `size` values from `make`, each handed out once; `make` returns None when busy."""

    def __init__(self, size: int, make: Callable[[], T | None]) -> None:
        self._size = size
        self._make = make
        self._ready: deque[T] = deque()
        self._changed = threading.Condition()
        self._stopped = False
        self._thread: threading.Thread | None = None

    @classmethod
    def off(cls) -> ReceiptPool[T]:
        return cls(0, lambda: None)

    def start(self) -> None:
        if self._size > 0 and self._thread is None:
            self._thread = threading.Thread(target=self._fill, name="receipt-pool", daemon=True)
            self._thread.start()

    def take(self) -> T | None:
        """A value made ahead, or None: the caller makes its own."""
        with self._changed:
            if not self._ready:
                return None
            value = self._ready.popleft()
            self._changed.notify()
            return value

    def ready(self) -> int:
        with self._changed:
            return len(self._ready)

    def wait_until_full(self, timeout: float) -> bool:
        """For tests and benchmarks: True once `size` values are ready."""
        with self._changed:
            return self._changed.wait_for(
                lambda: self._stopped or len(self._ready) >= self._size, timeout
            )

    def stop(self) -> None:
        """Stop filling and forget every value not handed out."""
        with self._changed:
            self._stopped = True
            self._ready.clear()
            self._changed.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _fill(self) -> None:
        lower_this_thread(IDLE_NICENESS)
        while self._wait_for_room():
            try:
                value = self._make()
            except Exception:  # noqa: BLE001 - the filler must outlive one bad derivation
                # No traceback: nothing of a receipt may reach a log line.
                log.warning("receipt pool", extra={"event": "derivation_failed"})
                value = None
                self._pause(_ERROR_WAIT_S)
            if value is None:
                self._pause(_BUSY_WAIT_S)
                continue
            with self._changed:
                if self._stopped:
                    return
                self._ready.append(value)
                self._changed.notify_all()

    def _wait_for_room(self) -> bool:
        with self._changed:
            self._changed.wait_for(lambda: self._stopped or len(self._ready) < self._size)
            return not self._stopped

    def _pause(self, seconds: float) -> None:
        with self._changed:
            self._changed.wait_for(lambda: self._stopped, seconds)
