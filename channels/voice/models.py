"""The voice channel's rows: one per call in progress, one per answered webhook.

Both are keyed by keyed hashes (the CallSid never, the caller's number never).
What could identify anything (the receipt, to read it again; the stored TwiML,
which holds it) is sealed with the server's draft key. Rows live for minutes:
`purge_expired` removes them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from intake.models.base import Base, UTCDateTime, utcnow


class VoiceCall(Base):
    """A call's menu state between webhooks (choices in clear, the receipt sealed)."""

    __tablename__ = "voice_calls"

    call_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    turn: Mapped[int] = mapped_column(Integer, default=0)
    step: Mapped[str] = mapped_column(String(32))
    choices: Mapped[str] = mapped_column(Text, default="{}")
    draft_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class VoiceAnswer(Base):
    """The TwiML given to one webhook (CallSid + turn + keys), so a redelivery gets it again."""

    __tablename__ = "voice_answers"

    answer_key: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    twiml_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
