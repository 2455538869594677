"""The voice channel's hooks: its webhook and prompts, the recording kind, purge, table check."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from fastapi import APIRouter
from sqlalchemy.orm import Session

from channels.base import ChannelAdapter
from channels.twilio_client import twilio_configured
from channels.voice import store
from channels.voice.outbound import FETCH_KIND, VoiceKinds, purge_lost
from channels.voice.service import CHANNEL
from channels.voice.speech import voice_language_problems
from channels.voice.webhook import router
from intake.context import AppContext
from intake.settings import Settings
from intake.vocab import Channel
from intake.worker.delivery import Handler
from routing.table import RoutingTable


class VoiceChannel(ChannelAdapter):
    name: Channel = CHANNEL

    def routers(self) -> Sequence[APIRouter]:
        return (router,)

    def outbox_kinds(self) -> tuple[str, ...]:
        return (FETCH_KIND,)

    def outbox_handlers(self, context: AppContext) -> Mapping[str, Handler]:
        if not twilio_configured(context.settings):
            return {}
        return {FETCH_KIND: VoiceKinds(context).fetch_recording}

    def purge_expired(self, session: Session, *, now: datetime) -> int:
        return store.purge_expired(session, now) + purge_lost(session)

    def table_problems(self, table: RoutingTable, settings: Settings) -> list[str]:
        return voice_language_problems(table, settings.voice_prompts_dir)
