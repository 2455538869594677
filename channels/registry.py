"""The installed channels, in one list the commands hand to the core.

Importing this also registers every channel's own models on the shared
metadata (migrations and schema checks see them).
"""

from __future__ import annotations

from channels import api, web
from channels.base import ChannelAdapter
from channels.hotline import models as hotline_models
from channels.hotline.adapter import HotlineChannel
from channels.sms import models as sms_models
from channels.sms.adapter import SmsChannel
from channels.voice import models as voice_models
from channels.voice.adapter import VoiceChannel

MODELS = (hotline_models, sms_models, voice_models)


def installed() -> tuple[ChannelAdapter, ...]:
    return (web.WebChannel(), api.ApiChannel(), SmsChannel(), HotlineChannel(), VoiceChannel())
