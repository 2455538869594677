"""The hotline channel's hooks: the operator API and the console."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter

from channels.base import ChannelAdapter
from channels.hotline import api, console
from channels.hotline.schemas import CHANNEL
from intake.vocab import Channel


class HotlineChannel(ChannelAdapter):
    name: Channel = CHANNEL

    def routers(self) -> Sequence[APIRouter]:
        return (api.router, console.router)
