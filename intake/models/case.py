"""A case: the clear metadata routing and deadlines need, and the sealed envelope.

Nothing here holds plaintext of a sealed field. `envelope` is the SPEC section 5
JSON; `receipt_lookup` is the keyed Argon2id-derived value of SPEC section 8.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from intake.models.attachment import CaseAttachment
from intake.models.base import Base, UTCDateTime, utcnow


class Case(Base):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_ref: Mapped[str] = mapped_column(String(32), unique=True)
    channel: Mapped[str] = mapped_column(String(16))
    reporter_type: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(16))
    country: Mapped[str] = mapped_column(String(2), index=True)
    category: Mapped[str] = mapped_column(String(32))
    affiliation: Mapped[str] = mapped_column(String(64))
    victim_is_child: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    consent_contact_me: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_share_with_investigators: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_refer_to_services: Mapped[bool] = mapped_column(Boolean, default=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default="routed")
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    overdue_marked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    rule_id: Mapped[str] = mapped_column(String(128))
    table_version: Mapped[str] = mapped_column(String(128))
    routing_table_id: Mapped[int | None] = mapped_column(
        ForeignKey("routing_tables.id"), nullable=True
    )
    envelope: Mapped[str] = mapped_column(Text)
    envelope_sha256: Mapped[str] = mapped_column(String(64))
    receipt_lookup: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    receipt_public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    # A reporter reply no focal point has opened yet: the inbox marks the case new (SPEC 16).
    reply_unseen: Mapped[bool] = mapped_column(Boolean, server_default=false())
    # Retention (SPEC 12): when the content was destroyed. From then on `envelope` is
    # empty, and the case keeps only the clear metadata above (`intake.cases.retention`).
    shredded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    recipients: Mapped[list[CaseRecipient]] = relationship(
        back_populates="case", order_by="CaseRecipient.position", cascade="all, delete-orphan"
    )
    attachments: Mapped[list[CaseAttachment]] = relationship(
        order_by="CaseAttachment.id", cascade="all, delete-orphan", passive_deletes=True
    )

    __table_args__ = (
        Index("ix_cases_status_due_at", "status", "due_at"),
        Index("ix_cases_country_id", "country", "id"),
        # The coordination figures (SPEC 12), each read from an index alone: counts of a
        # period in the GROUP BY's own order (no sort), hours and months by period.
        Index("ix_cases_figures", "country", "category", "channel", "status", "received_at"),
        Index("ix_cases_received_at_ack", "received_at", "acknowledged_at"),
        Index("ix_cases_country_received_at_ack", "country", "received_at", "acknowledged_at"),
    )

    @property
    def recipient_ids(self) -> list[str]:
        return [recipient.focal_point_id for recipient in self.recipients]


class CaseRecipient(Base):
    """A focal point that can open the case (its key is in the envelope)."""

    __tablename__ = "case_recipients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    focal_point_id: Mapped[str] = mapped_column(String(128))
    position: Mapped[int] = mapped_column(Integer, default=0)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    case: Mapped[Case] = relationship(back_populates="recipients")

    __table_args__ = (
        UniqueConstraint("case_id", "focal_point_id", name="uq_case_recipients_case_fp"),
        Index("ix_case_recipients_fp_case", "focal_point_id", "case_id"),
    )


class CaseEvent(Base):
    """A lifecycle step (routed, acknowledged, referred, ...), with who and when."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    type: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str | None] = mapped_column(String(128), nullable=True)
    # Clear, content-free details only: referral target, outcome, override reason code.
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)

    # The figures join a case's `referred` and `closed` events (SPEC 12).
    __table_args__ = (Index("ix_case_events_type_case_id_at", "type", "case_id", "at"),)


class CaseMessage(Base):
    """A message between a focal point and the reporter, sealed to the receipt key and
    recipients; `sender` says which way it went (`focal_point` or `reporter`, SPEC 16)."""

    __tablename__ = "case_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    author: Mapped[str] = mapped_column(String(128))
    sealed_for_reporter: Mapped[str] = mapped_column(Text)
    envelope: Mapped[str] = mapped_column(Text)
    sender: Mapped[str] = mapped_column(
        String(16), default="focal_point", server_default="focal_point"
    )
