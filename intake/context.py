"""What one process shares between requests, built once in the lifespan."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, TypeVar

from fastapi import APIRouter
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from crypto.kdf import RECEIPT_COST, TEST_COST, KdfCost
from crypto.receipt import ReceiptKeys
from crypto.server_secret import ServerSecret
from intake.db import transaction
from intake.models import Case, SystemValue
from intake.reports.lookup_lane import LookupLane
from intake.reports.receipt_pool import ReceiptPool
from intake.reports.writer import BatchWriter
from intake.routing_tables.store import RoutingState
from intake.settings import Settings
from routing.table import RoutingTable

if TYPE_CHECKING:
    from intake.worker.delivery import Handler

T = TypeVar("T")
RECEIPT_SALT = "receipt_salt"


class ChannelHooks(Protocol):
    """What the core asks of an installed channel; `channels/base.py` states the contract.

    The core never imports a channel: the command that builds the process
    (`intake serve`, `intake worker`, ...) hands the installed ones over.
    """

    @property
    def name(self) -> str: ...

    def routers(self) -> Sequence[APIRouter]: ...

    def on_focal_point_message(
        self, session: Session, context: AppContext, case: Case, *, text: str, message_id: int
    ) -> bool: ...

    def outbox_kinds(self) -> tuple[str, ...]: ...

    def outbox_handlers(self, context: AppContext) -> Mapping[str, Handler]: ...

    def purge_expired(self, session: Session, *, now: datetime) -> int: ...

    def shred_case(self, session: Session, case: Case) -> tuple[str, ...]: ...

    def table_problems(self, table: RoutingTable, settings: Settings) -> list[str]: ...


class KdfPool:
    """At most `size` Argon2id runs at once in this process.

    Callers are already off the event loop (sync endpoints run in the thread
    pool); the semaphore bounds memory (19 MiB a run) and CPU under a burst.
    Receipts (`AppContext.kdf`) and staff passwords (`AppContext.passwords`)
    have a pool each, so a flood of sign-ins never takes a reporter's slot.
    """

    def __init__(self, size: int) -> None:
        self._slots = threading.BoundedSemaphore(size)

    def run(self, function: Callable[[], T]) -> T:
        with self._slots:
            return function()

    def run_if_free(self, function: Callable[[], T]) -> T | None:
        """`function()` when a slot is free right now, else None (idle-time work)."""
        if not self._slots.acquire(blocking=False):
            return None
        try:
            return function()
        finally:
            self._slots.release()


@dataclass
class AppContext:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    secret: ServerSecret
    receipt_cost: KdfCost
    receipt_salt: bytes
    kdf: KdfPool
    routing: RoutingState = field(default_factory=RoutingState)
    channels: tuple[ChannelHooks, ...] = ()
    passwords: KdfPool = field(default_factory=lambda: KdfPool(2))
    # Follow-up look-ups derive here, not in `kdf`: guesses never take a reporter's slot.
    lookups: LookupLane = field(default_factory=lambda: LookupLane(1))
    # Receipts made ahead (`intake.reports.receipts.start_receipt_pool`); off until started.
    receipts: ReceiptPool[tuple[str, ReceiptKeys]] = field(default_factory=ReceiptPool.off)
    writer: BatchWriter = field(init=False)

    def __post_init__(self) -> None:
        self.writer = BatchWriter(self.sessions)

    def close(self) -> None:
        """Forget receipts made ahead, finish look-ups and queued writes, release connections."""
        self.receipts.stop()
        self.lookups.close()
        self.writer.close()
        self.engine.dispose()


def receipt_cost_from(settings: Settings) -> KdfCost:
    if settings.insecure_test_kdf:
        return TEST_COST  # INTAKE_INSECURE_TEST_KDF: system tests only; `intake serve` warns
    cost = KdfCost(
        opslimit=settings.receipt_kdf_opslimit,
        memlimit=settings.receipt_kdf_memlimit_mib * 1024 * 1024,
    )
    if cost.opslimit < RECEIPT_COST.opslimit or cost.memlimit < RECEIPT_COST.memlimit:
        raise ValueError("receipt KDF cost below SPEC section 8")
    return cost


def ensure_receipt_salt(sessions: sessionmaker[Session]) -> bytes:
    """The system-wide Argon2id salt (16 bytes), created once by whoever comes first."""
    with sessions() as session:
        existing = session.get(SystemValue, RECEIPT_SALT)
        if existing is not None:
            return existing.value
    try:
        with transaction(sessions) as session:
            session.add(SystemValue(name=RECEIPT_SALT, value=secrets.token_bytes(16)))
    except IntegrityError:
        pass  # another process created it first
    with sessions() as session:
        return session.scalars(
            select(SystemValue.value).where(SystemValue.name == RECEIPT_SALT)
        ).one()
