"""Leases, backoff and outcomes of outbox entries, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update
from testkit.clock import Clock
from testkit.outbox import entries, entry, put

from intake.context import AppContext
from intake.logs import SafeJsonFormatter
from intake.models import OutboxEntry
from intake.worker import claim
from intake.worker.delivery import DeliveryError, Handler
from intake.worker.run import Worker, WorkerConfig


class Recorder:
    """A handler that records payloads and fails as told."""

    def __init__(self, *failures: DeliveryError | Exception) -> None:
        self.calls: list[Mapping[str, Any]] = []
        self.failures = list(failures)

    def __call__(self, payload: Mapping[str, Any]) -> None:
        self.calls.append(payload)
        if self.failures:
            raise self.failures.pop(0)


def worker(context: AppContext, clock: Clock, handler: Handler, **config: Any) -> Worker:
    return Worker(context, clock=clock, handlers={"test": handler}, config=WorkerConfig(**config))


def test_backoff_doubles_from_15_seconds_up_to_an_hour_with_jitter() -> None:
    lowest = [claim.backoff_delay(n, jitter=lambda: 0.0).total_seconds() for n in range(1, 13)]
    highest = [claim.backoff_delay(n, jitter=lambda: 1.0).total_seconds() for n in range(1, 13)]
    assert highest[:9] == [15, 30, 60, 120, 240, 480, 960, 1920, 3600]
    assert highest[9:] == [3600, 3600, 3600]
    assert lowest == [value / 2 for value in highest]
    spread = {claim.backoff_delay(4).total_seconds() for _ in range(50)}
    assert len(spread) > 1
    assert all(60 <= value <= 120 for value in spread)


def test_a_claim_leases_entries_oldest_first_and_counts_the_attempt(
    context: AppContext,
) -> None:
    clock = Clock()
    ids = [put(context, "test", {"n": n}, available_at=clock.now) for n in range(3)]
    first = claim.claim(context.sessions, kinds=["test"], now=clock.now, limit=2)
    assert [c.id for c in first] == ids[:2]
    assert all(c.attempts == 1 and c.lease_until == clock.now + claim.LEASE for c in first)
    second = claim.claim(context.sessions, kinds=["test"], now=clock.now, limit=5)
    assert [c.id for c in second] == ids[2:]
    assert claim.claim(context.sessions, kinds=["test"], now=clock.now, limit=5) == []
    assert claim.claim(context.sessions, kinds=["other"], now=clock.now, limit=5) == []
    assert entry(context, ids[0]).available_at == clock.now + claim.LEASE


def test_an_outcome_is_written_only_while_the_lease_is_held(context: AppContext) -> None:
    clock = Clock()
    entry_id = put(context, "test", {}, available_at=clock.now)
    (slow,) = claim.claim(context.sessions, kinds=["test"], now=clock.now, limit=1)
    later = clock.advance(claim.LEASE + timedelta(seconds=1))
    (fresh,) = claim.claim(context.sessions, kinds=["test"], now=later, limit=1)
    assert fresh.attempts == 2
    assert not claim.mark_sent(context.sessions, slow, now=later)
    assert not claim.mark_retry(context.sessions, slow, code="late", now=later)
    assert claim.mark_sent(context.sessions, fresh, now=later)
    row = entry(context, entry_id)
    assert row.sent_at == later.replace(second=0, microsecond=0)  # kept to the minute
    assert row.last_error is None
    assert not claim.mark_sent(context.sessions, fresh, now=later)  # already settled


def test_a_crashed_workers_entries_come_back_after_the_lease(context: AppContext) -> None:
    clock = Clock()
    entry_id = put(context, "test", {"n": 1}, available_at=clock.now)
    claim.claim(context.sessions, kinds=["test"], now=clock.now, limit=10)  # then "crashes"
    handler = Recorder()
    survivor = worker(context, clock, handler)
    assert survivor.run_once().sent == 0
    clock.advance(claim.LEASE)
    assert survivor.run_once().sent == 1
    assert handler.calls == [{"n": 1}]
    assert entry(context, entry_id).attempts == 2


def test_a_failed_delivery_is_retried_with_backoff_then_failed_after_12_attempts(
    context: AppContext,
) -> None:
    clock = Clock()
    entry_id = put(context, "test", {}, available_at=clock.now)
    handler = Recorder(*[DeliveryError("http_503") for _ in range(20)])
    runner = worker(context, clock, handler)
    for attempt in range(1, 12):
        report = runner.run_once()
        assert report.retried == 1
        row = entry(context, entry_id)
        assert (row.attempts, row.last_error, row.failed_at) == (attempt, "http_503", None)
        delay = row.available_at - clock.now
        ceiling = min(3600.0, 15.0 * 2 ** (attempt - 1))
        assert ceiling / 2 <= delay.total_seconds() <= ceiling
        assert runner.run_once().retried == 0  # not due yet: nothing is claimed
        clock.advance(delay)
    assert runner.run_once().failed == 1
    row = entry(context, entry_id)
    assert (row.attempts, row.failed_at, row.sent_at) == (12, clock.now, None)
    clock.advance(timedelta(days=1))
    assert runner.run_once() == type(report)()
    assert len(handler.calls) == 12


def test_a_retry_succeeds_on_a_later_pass(context: AppContext) -> None:
    clock = Clock()
    entry_id = put(context, "test", {}, available_at=clock.now)
    runner = worker(context, clock, Recorder(DeliveryError("smtp_unreachable")))
    assert runner.run_once().retried == 1
    clock.advance(timedelta(seconds=15))
    assert runner.run_once().sent == 1
    row = entry(context, entry_id)
    minute = clock.now.replace(second=0, microsecond=0)
    assert (row.attempts, row.sent_at, row.last_error) == (2, minute, None)


def test_a_permanent_failure_is_not_retried(context: AppContext) -> None:
    clock = Clock()
    entry_id = put(context, "test", {}, available_at=clock.now)
    runner = worker(context, clock, Recorder(DeliveryError("webhook_404", permanent=True)))
    assert runner.run_once().failed == 1
    row = entry(context, entry_id)
    assert (row.attempts, row.last_error, row.failed_at) == (1, "webhook_404", clock.now)


def test_a_crashing_handler_is_retried_under_a_content_free_code(
    context: AppContext, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    entry_id = put(context, "test", {}, available_at=clock.now)
    runner = worker(context, clock, Recorder(RuntimeError("+254700123456 said something")))
    assert runner.run_once().retried == 1
    assert entry(context, entry_id).last_error == "internal_error"
    logged = "".join(SafeJsonFormatter().format(record) for record in caplog.records)
    assert "delivery crashed" in logged
    assert "RuntimeError" in logged
    assert "254700123456" not in logged


def test_unknown_kinds_stay_pending_and_bad_payloads_fail(context: AppContext) -> None:
    clock = Clock()
    stranger = put(context, "from_a_newer_version", {}, available_at=clock.now)
    bad = put(context, "test", {}, available_at=clock.now)
    with context.sessions() as session, session.begin():
        session.execute(
            update(OutboxEntry).where(OutboxEntry.id == bad).values(payload="[not an object")
        )
    handler = Recorder()
    assert worker(context, clock, handler).run_once().failed == 1
    assert entry(context, bad).last_error == "bad_payload"
    assert entry(context, stranger).attempts == 0  # left for a worker that knows the kind
    assert handler.calls == []


def test_a_stop_lets_the_send_under_way_finish_and_gives_the_rest_back(
    context: AppContext,
) -> None:
    ids = [put(context, "test", {"n": n}) for n in range(5)]
    started, proceed, stop = threading.Event(), threading.Event(), threading.Event()
    sent: list[Mapping[str, Any]] = []

    def slow(payload: Mapping[str, Any]) -> None:
        started.set()
        assert proceed.wait(10)
        sent.append(payload)

    runner = Worker(context, handlers={"test": slow}, config=WorkerConfig(interval_s=0.05))
    thread = threading.Thread(target=runner.run_forever, args=(stop,))
    thread.start()
    assert started.wait(10)
    stop.set()
    proceed.set()
    thread.join(10)
    assert not thread.is_alive()
    assert sent == [{"n": 0}]
    rows = entries(context, "test")
    assert rows[0].sent_at is not None
    assert [(row.id, row.attempts, row.sent_at) for row in rows[1:]] == [
        (entry_id, 0, None) for entry_id in ids[1:]
    ]


def test_too_little_lease_left_means_no_send_and_no_spinning(context: AppContext) -> None:
    clock = Clock()
    ids = [put(context, "test", {}, available_at=clock.now) for _ in range(2)]
    handler = Recorder()
    runner = worker(context, clock, handler, lease=timedelta(seconds=30), batch_size=1)
    assert runner.run_once().released == 1  # returns instead of re-claiming the same entry
    assert handler.calls == []
    assert [entry(context, entry_id).attempts for entry_id in ids] == [0, 0]
