"""Sealed files that follow a case after it is stored (a spoken account's audio).

Channel-agnostic: a channel adds a `pending` row in the case's transaction
and fills it later (`attached`, with its envelope), or gives up (`lost`).
`envelope` is an envelope v1 (SPEC 5) of `{"mime", "data"}` (data base64),
AAD `intake:v1:` + case_ref; nothing here is in clear but kind and status.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from intake.models.base import Base, UTCDateTime, utcnow


class CaseAttachment(Base):
    __tablename__ = "case_attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attached_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    envelope: Mapped[str | None] = mapped_column(Text, nullable=True)
    envelope_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
