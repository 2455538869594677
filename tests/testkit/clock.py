"""A clock tests move by hand, for code that takes `clock: Callable[[], datetime]`."""

from __future__ import annotations

from datetime import datetime, timedelta

from intake.models import utcnow


class Clock:
    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> datetime:
        self.now += delta
        return self.now
