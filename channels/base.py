"""The contract between a channel and the core.

A channel turns its own input (a form, a JSON body, an SMS, a call) into a
`Submission` and its result into its own reply (a page, JSON, TwiML):

1. Hand over: build `intake.reports.submission.Submission` (the validated
   `ReportIn`, the channel's name, the display language, what must be sealed
   with the report, the rate-limit source) and call
   `intake.reports.service.submit(context, submission)`.
2. Get back: an `Accepted` (case_ref, receipt, status, due_at), returned
   only after the case is durably committed, or an `IntakeError` (over a
   limit, no routing table, not sealable) with nothing stored.
3. Attach its own state: rows in the channel's own tables (its own models
   on `intake.models.base.Base`, in `channels/<name>/models.py`), written by
   `Submission.on_stored(session, accepted)` inside the case's transaction.
4. React to the core through the hooks below (the core's `ChannelHooks`):
   a focal point's message to the reporter, its own outbox kinds and their
   handlers, forgetting its expired state, destroying its sealed rows of a
   case whose retention period is over (SPEC 12), and what it cannot serve in a
   routing table (checked by `intake routing check` and `load`). The core
   calls every installed channel and never names one.

The core may not import a channel; `channels.registry` lists the installed
ones and the commands hand them to `create_app` and the worker.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from fastapi import APIRouter
from sqlalchemy.orm import Session

from intake.context import AppContext
from intake.models import Case
from intake.reports.service import submit
from intake.reports.submission import Accepted, OnStored, Submission
from intake.settings import Settings
from intake.vocab import Channel
from intake.worker.delivery import Handler
from routing.table import RoutingTable

__all__ = ["Accepted", "ChannelAdapter", "OnStored", "Submission", "submit"]


class ChannelAdapter:
    """A channel's hooks; the defaults do nothing, so a channel overrides what it owns."""

    name: Channel

    def routers(self) -> Sequence[APIRouter]:
        return ()

    def on_focal_point_message(
        self, session: Session, context: AppContext, case: Case, *, text: str, message_id: int
    ) -> bool:
        """Deliver a focal point's message over this channel too; True when queued."""
        return False

    def outbox_kinds(self) -> tuple[str, ...]:
        """Every outbox kind this channel enqueues (its entries wait without a handler)."""
        return ()

    def outbox_handlers(self, context: AppContext) -> Mapping[str, Handler]:
        """The handlers of those kinds this process is configured to deliver."""
        return {}

    def purge_expired(self, session: Session, *, now: datetime) -> int:
        """Forget the channel's state that has outlived its purpose; rows removed."""
        return 0

    def shred_case(self, session: Session, case: Case) -> tuple[str, ...]:
        """Delete every sealed value of this channel tied to `case` (retention, SPEC 12).

        Called in the shredding transaction before the core deletes the case's
        messages and attachments; returns the tables it deleted from (vacuumed
        afterwards on PostgreSQL).
        """
        return ()

    def table_problems(self, table: RoutingTable, settings: Settings) -> list[str]:
        """What this channel cannot serve in a valid routing table (`intake routing check`)."""
        return []
