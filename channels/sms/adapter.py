"""The SMS channel's hooks: its webhook, answers by SMS, its outbox kinds, its purge."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from fastapi import APIRouter
from sqlalchemy.orm import Session

from channels.base import ChannelAdapter
from channels.sms import store
from channels.sms.outbound import REDACT_KIND, SMS_REPLY_KIND, TwilioKinds, twilio_configured
from channels.sms.service import CHANNEL
from channels.sms.webhook import router
from crypto.envelope import b64e
from crypto.secretbox import seal_draft
from intake.context import AppContext
from intake.models import Case
from intake.outbox.enqueue import enqueue
from intake.vocab import Channel
from intake.worker.delivery import Handler


class SmsChannel(ChannelAdapter):
    name: Channel = CHANNEL

    def routers(self) -> Sequence[APIRouter]:
        return (router,)

    def on_focal_point_message(
        self, session: Session, context: AppContext, case: Case, *, text: str, message_id: int
    ) -> bool:
        """Queue the answer as an SMS when the reporter consented (sealed with the draft key)."""
        if case.channel != CHANNEL or not case.consent_contact_me:
            return False
        route = store.reply_route(session, case.id)
        if route is None:
            return False
        enqueue(
            session,
            SMS_REPLY_KIND,
            {
                "to_sealed": b64e(route),
                "body_sealed": b64e(seal_draft(context.secret, text.encode("utf-8"))),
            },
            dedupe_key=f"{SMS_REPLY_KIND}:{message_id}",
        )
        return True

    def outbox_kinds(self) -> tuple[str, ...]:
        return (SMS_REPLY_KIND, REDACT_KIND)

    def outbox_handlers(self, context: AppContext) -> Mapping[str, Handler]:
        settings = context.settings
        twilio = TwilioKinds(settings, context.secret)
        handlers: dict[str, Handler] = {}
        if twilio_configured(settings):
            handlers[SMS_REPLY_KIND] = twilio.sms_reply
        if twilio_configured(settings) or not settings.twilio_delete_bodies:
            handlers[REDACT_KIND] = twilio.redact
        return handlers

    def purge_expired(self, session: Session, *, now: datetime) -> int:
        return store.purge_expired_conversations(session, now)

    def shred_case(self, session: Session, case: Case) -> tuple[str, ...]:
        """The reply route and the queued answers (number and text sealed) of the case."""
        return store.shred_case(session, case.id)
