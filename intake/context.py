"""What one process shares between requests, built once in the lifespan."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from crypto.kdf import RECEIPT_COST, TEST_COST, KdfCost
from intake.models import SystemValue
from intake.routing_store import RoutingState
from intake.server_secret import ServerSecret
from intake.settings import Settings
from intake.writer import BatchWriter

T = TypeVar("T")
RECEIPT_SALT = "receipt_salt"


class KdfPool:
    """At most `size` Argon2id runs at once in this process.

    Callers are already off the event loop (sync endpoints run in the thread
    pool); the semaphore bounds memory (19 MiB a run) and CPU under a burst.
    """

    def __init__(self, size: int) -> None:
        self._slots = threading.BoundedSemaphore(size)

    def run(self, function: Callable[[], T]) -> T:
        with self._slots:
            return function()


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
    writer: BatchWriter = field(init=False)

    def __post_init__(self) -> None:
        self.writer = BatchWriter(self.sessions)

    def close(self) -> None:
        """Finish queued writes, then release the database connections."""
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
        with sessions() as session, session.begin():
            session.add(SystemValue(name=RECEIPT_SALT, value=secrets.token_bytes(16)))
    except IntegrityError:
        pass  # another process created it first
    with sessions() as session:
        return session.scalars(
            select(SystemValue.value).where(SystemValue.name == RECEIPT_SALT)
        ).one()
