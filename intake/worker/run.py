"""The worker: one pass = housekeeping, then drain the outbox until nothing is due.

Handlers are plain callables per kind. A kind whose transport is not
configured (Twilio without credentials) is not claimed at all: its entries
stay pending, untouched, until a worker that can send them runs. An alert to
a `mailto:` address while mail is not configured is deferred the same way
(no attempt counted, never dropped), and a worker that has mail wakes such
alerts on its first pass.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError

from intake.cases.retention import run_retention
from intake.context import AppContext
from intake.db import transaction
from intake.models import utcnow
from intake.outbox.kinds import NOTIFY
from intake.routing_tables.store import NoRoutingTable
from intake.worker import claim
from intake.worker.audit_head import enqueue_daily_head
from intake.worker.claim import Claimed
from intake.worker.delivery import DeliveryError, Handler, load_payload
from intake.worker.housekeeping import purge_expired
from intake.worker.notify import NO_MAIL_TRANSPORT, MailTransport, NotifyHandler
from intake.worker.overdue import OVERDUE_BATCH, mark_overdue

log = logging.getLogger("intake.worker")
WORKER_ACTOR = "worker"


@dataclass(frozen=True)
class WorkerConfig:
    batch_size: int = 20
    lease: timedelta = claim.LEASE
    max_attempts: int = claim.MAX_ATTEMPTS
    interval_s: float = 2.0
    # A send never starts with less of its lease left than this (longest timeout + margin).
    send_budget: timedelta = timedelta(seconds=45)
    warn_every_s: float = 600.0
    # How long an entry whose transport is missing waits before it is looked at again.
    transport_wait: timedelta = timedelta(minutes=5)
    # Retention (SPEC 12): a pass at start, then one a day.
    retention_every: timedelta = timedelta(hours=24)


@dataclass
class PassReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    released: int = 0
    lost: int = 0
    overdue: int = 0
    purged: int = 0
    waiting: int = 0
    shredded: int = 0


def build_handlers(context: AppContext) -> dict[str, Handler]:
    """The kinds this worker can deliver with its configuration."""
    handlers: dict[str, Handler] = {
        NOTIFY: NotifyHandler(
            MailTransport.from_settings(context.settings), base_url=context.settings.public_url
        )
    }
    for channel in context.channels:
        handlers.update(channel.outbox_handlers(context))
    return handlers


class Worker:
    def __init__(
        self,
        context: AppContext,
        *,
        config: WorkerConfig | None = None,
        clock: Callable[[], datetime] = utcnow,
        handlers: dict[str, Handler] | None = None,
    ) -> None:
        self._context = context
        self._config = config or WorkerConfig()
        self._clock = clock
        self._handlers = handlers if handlers is not None else build_handlers(context)
        self._last_warning: float | None = None
        self._last_mail_warning: float | None = None
        self._next_retention: datetime | None = None  # None: at the first pass
        notify = self._handlers.get(NOTIFY)
        self._wake_mail = isinstance(notify, NotifyHandler) and notify.can_mail

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(sorted(self._handlers))

    def run_once(self, stop: threading.Event | None = None) -> PassReport:
        report = PassReport()
        if self._wake_mail:  # once: alerts that waited for mail are due now
            self._wake_mail = False
            woken = claim.wake(self._context.sessions, code=NO_MAIL_TRANSPORT, now=self._clock())
            if woken:
                log.info("alerts that waited for mail are due", extra={"count": woken})
        self._housekeeping(report)
        self._drain(report, stop)
        self._warn_waiting(report)
        return report

    def run_forever(self, stop: threading.Event) -> None:
        """Passes until `stop` is set; the delivery under way finishes first."""
        log.info("worker started", extra={"count": len(self._handlers)})
        while not stop.is_set():
            try:
                self.run_once(stop)
            except Exception:
                # The database may come back (failover, restart), and one bad
                # pass must not stop every later delivery: log frames, go on.
                log.exception("worker pass failed")
            stop.wait(self._config.interval_s)
        log.info("worker stopped")

    def _housekeeping(self, report: PassReport) -> None:
        now = self._clock()
        sessions = self._context.sessions
        try:
            while True:
                with transaction(sessions) as session:
                    marked = mark_overdue(session, self._context.routing, now=now)
                report.overdue += len(marked)
                if len(marked) < OVERDUE_BATCH:
                    break
        except NoRoutingTable:
            log.warning("no routing table loaded; overdue cases wait")
        self._audit_head(now)
        self._retention(now, report)
        with transaction(sessions) as session:
            report.purged = purge_expired(session, now=now, channels=self._context.channels)
        if report.purged:
            log.info("expired state purged", extra={"count": report.purged})

    def _retention(self, now: datetime, report: PassReport) -> None:
        """Shred the closed cases past their period, daily; every case once across workers."""
        if self._next_retention is not None and now < self._next_retention:
            return
        shredded = run_retention(self._context, now=now, actor=WORKER_ACTOR).total
        self._next_retention = now + self._config.retention_every  # a failed pass retries
        report.shredded += shredded
        if shredded:
            log.info("cases shredded", extra={"count": shredded})

    def _audit_head(self, now: datetime) -> None:
        """Today's audit head to `[audit] notify`; a concurrent worker's copy wins."""
        try:
            with transaction(self._context.sessions) as session:
                table = self._context.routing.active_or_none(session)
                queued = enqueue_daily_head(session, table, now=now)
        except IntegrityError:
            return
        if queued:
            log.info("audit head queued", extra={"count": queued})

    def _drain(self, report: PassReport, stop: threading.Event | None) -> None:
        config = self._config
        while stop is None or not stop.is_set():
            batch = claim.claim(
                self._context.sessions,
                kinds=self.kinds,
                now=self._clock(),
                limit=config.batch_size,
                lease=config.lease,
            )
            attempted = 0
            for index, claimed in enumerate(batch):
                if stop is not None and stop.is_set():
                    self._release(batch[index:], report)
                    return
                attempted += self._deliver(claimed, report)
            if len(batch) < config.batch_size or not attempted:
                return  # nothing more is due, or no lease was long enough to send

    def _release(self, entries: list[Claimed], report: PassReport) -> None:
        for claimed in entries:
            if claim.release(self._context.sessions, claimed, now=self._clock()):
                report.released += 1

    def _deliver(self, claimed: Claimed, report: PassReport) -> bool:
        """Send one entry and record the outcome; False when it was given back unsent."""
        if self._clock() + self._config.send_budget > claimed.lease_until:
            self._release([claimed], report)  # too little lease left to send safely
            return False
        fields = {"kind": claimed.kind, "outbox_id": claimed.id, "attempts": claimed.attempts}
        try:
            self._handlers[claimed.kind](load_payload(claimed.payload))
        except DeliveryError as exc:
            if exc.waits:  # pushed past this pass, so draining on cannot spin on it
                self._defer(claimed, exc, report)
                return True
            self._record_failure(claimed, exc, report, fields)
            return True
        except Exception:
            # A bug, not the peer: keep the entry and retry it like any failure.
            log.exception("delivery crashed", extra=fields)
            self._record_failure(claimed, DeliveryError("internal_error"), report, fields)
            return True
        if claim.mark_sent(self._context.sessions, claimed, now=self._clock()):
            report.sent += 1
            log.info("delivered", extra=fields)
        else:
            report.lost += 1
            log.warning("delivered after the lease ended", extra=fields)
        return True

    def _record_failure(
        self, claimed: Claimed, error: DeliveryError, report: PassReport, fields: dict[str, object]
    ) -> None:
        sessions, now = self._context.sessions, self._clock()
        extra = {**fields, "reason": error.code}
        if error.permanent or claimed.attempts >= self._config.max_attempts:
            done = claim.mark_failed(sessions, claimed, code=error.code, now=now)
            report.failed += done
            log.warning("delivery failed for good", extra=extra)
            return
        done = claim.mark_retry(
            sessions, claimed, code=error.code, now=now, max_attempts=self._config.max_attempts
        )
        report.retried += done
        log.info("delivery failed; will retry", extra=extra)

    def _defer(self, claimed: Claimed, error: DeliveryError, report: PassReport) -> None:
        """Keep the entry pending for a transport this worker lacks; warn now and then."""
        now = self._clock()
        until = now + self._config.transport_wait
        if claim.defer(self._context.sessions, claimed, code=error.code, until=until):
            report.waiting += 1
        moment = time.monotonic()
        last = self._last_mail_warning
        if last is None or moment - last >= self._config.warn_every_s:
            self._last_mail_warning = moment
            log.warning(
                "no mail transport configured (INTAKE_SMTP_HOST, INTAKE_SMTP_FROM); "
                "mailto: alerts wait in the outbox until it is",
                extra={"kind": claimed.kind, "outbox_id": claimed.id},
            )

    def _warn_waiting(self, report: PassReport) -> None:
        owned = [kind for channel in self._context.channels for kind in channel.outbox_kinds()]
        idle = [kind for kind in owned if kind not in self._handlers]
        if not idle:
            return
        with self._context.sessions() as session:
            idle_count = claim.waiting(session, kinds=idle, now=self._clock())
        report.waiting += idle_count
        now = time.monotonic()
        recently = self._last_warning is not None and now - self._last_warning < (
            self._config.warn_every_s
        )
        if idle_count and not recently:
            self._last_warning = now
            log.warning(
                "outbox entries wait for a transport that is not configured "
                "(for SMS: INTAKE_TWILIO_ACCOUNT_SID and INTAKE_TWILIO_AUTH_TOKEN)",
                extra={"count": idle_count},
            )
