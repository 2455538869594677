"""ORM models, one module per aggregate; importing this registers them all."""

from intake.models.audit import AuditEvent
from intake.models.base import Base, UTCDateTime, utcnow
from intake.models.case import Case, CaseEvent, CaseMessage, CaseRecipient, HotlineCall
from intake.models.outbox import OutboxEntry
from intake.models.sms import ProcessedMessage, SmsConversation
from intake.models.staff import StaffToken, StaffUser
from intake.models.system import RateCounter, RoutingTableVersion, SystemValue

__all__ = [
    "AuditEvent",
    "Base",
    "Case",
    "CaseEvent",
    "CaseMessage",
    "CaseRecipient",
    "HotlineCall",
    "OutboxEntry",
    "ProcessedMessage",
    "RateCounter",
    "RoutingTableVersion",
    "SmsConversation",
    "StaffToken",
    "StaffUser",
    "SystemValue",
    "UTCDateTime",
    "utcnow",
]
