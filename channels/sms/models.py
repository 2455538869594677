"""SMS conversation state and processed webhook deliveries.

Keyed by a keyed hash of the phone number; the unfinished account and stored
replies are sealed with the server's draft key, which lives in the secret file.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from intake.models.base import Base, UTCDateTime, utcnow


class SmsConversation(Base):
    __tablename__ = "sms_conversations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sender_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    step: Mapped[str] = mapped_column(String(32))
    # Clear, content-free choices so far (language, category, reporter type).
    choices: Mapped[str] = mapped_column(Text, default="{}")
    draft_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class ProcessedMessage(Base):
    """One row per Twilio MessageSid: the unique key makes processing exactly-once.

    Keyed by a keyed hash of the MessageSid, never the SID (SPEC 15), and not
    linked to the case it made: the sealed reply goes after 15 minutes, the
    row (a hash and a minute) after 7 days.
    """

    __tablename__ = "processed_messages"

    sid_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    reply_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    reply_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class SmsReplyRoute(Base):
    """Where a focal point's answer to an SMS case goes: sealed with the draft key.

    Written only when the reporter consented to contact, in the case's own
    transaction; deleted with the case.
    """

    __tablename__ = "sms_reply_routes"

    case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    route_sealed: Mapped[bytes] = mapped_column(LargeBinary)
