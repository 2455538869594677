"""The hotline's own rows: call ids, remembered only as keyed hashes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary
from sqlalchemy.orm import Mapped, mapped_column

from intake.models.base import Base, UTCDateTime, utcnow


class HotlineCall(Base):
    """An imported call id (keyed hash), so an import never creates a case twice."""

    __tablename__ = "hotline_calls"

    call_id_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A console call: when its receipt was shown (once, on the operator's request).
    receipt_shown_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
