"""The voice tests: a table with voice numbers, Twilio configured against a fake on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from testkit.fake_twilio import FakeTwilio
from testkit.keys import Keyring, routing_table_toml
from testkit.outbox import TWILIO_SID
from testkit.sms import TOKEN
from testkit.voice import VOICE_NUMBERS

from intake.context import AppContext
from intake.settings import Settings


@pytest.fixture
def routing_toml(keyring: Keyring) -> str:
    return routing_table_toml(keyring) + VOICE_NUMBERS


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio(TWILIO_SID, TOKEN) as fake:
        yield fake


@pytest.fixture
def settings(settings: Settings, fake_twilio: FakeTwilio) -> Settings:
    return settings.model_copy(
        update={"twilio_account_sid": TWILIO_SID, "twilio_api_base": fake_twilio.base_url}
    )


@pytest.fixture
def context(app: FastAPI) -> AppContext:
    found: AppContext = app.state.context
    return found
