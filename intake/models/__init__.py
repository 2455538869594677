"""The core's ORM models, one module per aggregate; importing this registers them.

Channels keep their own rows in their own models (`channels/*/models.py`) on
the same `Base`; `channels.registry` imports those.
"""

from intake.models.attachment import CaseAttachment
from intake.models.audit import AuditEvent
from intake.models.base import Base, UTCDateTime, utcnow
from intake.models.case import Case, CaseEvent, CaseMessage, CaseRecipient
from intake.models.outbox import OutboxEntry
from intake.models.staff import StaffSession, StaffToken, StaffUser
from intake.models.system import RateCounter, RoutingTableVersion, SystemValue, UsedPreparedToken

__all__ = [
    "AuditEvent",
    "Base",
    "Case",
    "CaseAttachment",
    "CaseEvent",
    "CaseMessage",
    "CaseRecipient",
    "OutboxEntry",
    "RateCounter",
    "RoutingTableVersion",
    "StaffSession",
    "StaffToken",
    "StaffUser",
    "SystemValue",
    "UTCDateTime",
    "UsedPreparedToken",
    "utcnow",
]
