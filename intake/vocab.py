"""Every SPEC-visible word of the service, each named once.

Categories belong to routing (a routing table is validated against them), so
they are defined in `routing.constants` and only re-exported here; the rest
are the service's own. Code compares against these names, never literals.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

from routing.constants import CATEGORIES, Category

__all__ = [
    "CATEGORIES",
    "CHANNELS",
    "OUTCOMES",
    "STATUSES",
    "AUDIO",
    "AttachmentStatus",
    "Category",
    "Channel",
    "EventType",
    "Outcome",
    "ReferralTarget",
    "ReporterType",
    "Status",
]

Channel = Literal["web", "api", "sms", "hotline", "voice"]
CHANNELS: Final = get_args(Channel)

ReporterType = Literal["anonymous", "third_party", "named"]

Status = Literal["routed", "acknowledged", "referred", "investigating", "closed"]
STATUSES: Final[tuple[Status, ...]] = get_args(Status)
ROUTED: Final[Status] = "routed"

EventType = Literal["acknowledged", "referred", "investigating", "closed"]
ReferralTarget = Literal["investigation", "assistance"]

Outcome = Literal[
    "substantiated",
    "unsubstantiated",
    "insufficient_evidence",
    "withdrawn",
    "referred_elsewhere",
    "other",
]
OUTCOMES: Final[tuple[Outcome, ...]] = get_args(Outcome)

# A case's audio attachment (SPEC 17): fetched later by the worker, or lost.
AttachmentStatus = Literal["pending", "attached", "lost"]
AUDIO: Final = "audio"
