"""Fixtures for the worker: contexts per settings and a fake Twilio on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from testkit.fake_twilio import FakeTwilio
from testkit.outbox import TWILIO_SID, ContextFactory

from channels.registry import installed
from crypto.kdf import KdfCost
from intake.app import build_context
from intake.context import AppContext
from intake.settings import Settings


@pytest.fixture
def make_context(loaded_routing: str, kdf_cost: KdfCost) -> Iterator[ContextFactory]:
    """Build an AppContext (own engine) for these settings; disposed after the test."""
    built: list[AppContext] = []

    def factory(settings: Settings) -> AppContext:
        context = build_context(settings, channels=installed(), receipt_cost=kdf_cost)
        built.append(context)
        return context

    yield factory
    for context in built:
        context.close()


@pytest.fixture
def context(settings: Settings, make_context: ContextFactory) -> AppContext:
    return make_context(settings)


@pytest.fixture
def fake_twilio(settings: Settings) -> Iterator[FakeTwilio]:
    assert settings.twilio_auth_token is not None
    with FakeTwilio(TWILIO_SID, settings.twilio_auth_token.get_secret_value()) as fake:
        yield fake
