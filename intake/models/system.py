"""System-wide values, loaded routing tables and shared rate-limit counters."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from intake.models.base import Base, UTCDateTime, utcnow


class SystemValue(Base):
    """Small named values, e.g. the system-wide receipt salt (not secret by itself)."""

    __tablename__ = "system_values"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[bytes] = mapped_column(LargeBinary)


class RoutingTableVersion(Base):
    """Every routing table ever loaded; the active one is the newest row."""

    __tablename__ = "routing_tables"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[str] = mapped_column(String(128))
    source: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    loaded_by: Mapped[str] = mapped_column(String(128))


class RateCounter(Base):
    """Events of one scope from one source (keyed hash) in one fixed window.

    Rows are deleted once their window has passed, so the source hash is kept
    only for the limit's window (SPEC sections 2 and 8).
    """

    __tablename__ = "rate_counters"

    scope: Mapped[str] = mapped_column(String(32), primary_key=True)
    source: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class UsedPreparedToken(Base):
    """A prepared token (SPEC 11) already accepted: a keyed hash of its random id, nothing else.

    The primary key makes "accepted once" hold across processes and concurrent
    requests; rows go once the token would have expired anyway.
    """

    __tablename__ = "used_prepared_tokens"

    id_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
