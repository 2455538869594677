"""Helpers for worker tests: outbox rows, sealed SMS payloads, settings for the fake Twilio."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from pydantic import SecretStr
from sqlalchemy import select

from crypto.envelope import b64e
from crypto.secretbox import seal_draft
from crypto.server_secret import ServerSecret
from intake.context import AppContext
from intake.db import transaction
from intake.models import OutboxEntry
from intake.outbox.enqueue import enqueue
from intake.settings import Settings
from testkit.fake_twilio import FakeTwilio

TWILIO_SID = "AC" + "5" * 32
ContextFactory = Callable[[Settings], AppContext]


def with_twilio(settings: Settings, fake: FakeTwilio, **changes: Any) -> Settings:
    """The test settings pointed at the fake Twilio API."""
    return settings.model_copy(
        update={"twilio_account_sid": fake.account_sid, "twilio_api_base": fake.base_url, **changes}
    )


def with_token(settings: Settings, token: str) -> Settings:
    return settings.model_copy(update={"twilio_auth_token": SecretStr(token)})


def put(context: AppContext, kind: str, payload: dict[str, Any], **kwargs: Any) -> int:
    with transaction(context.sessions) as session:
        entry = enqueue(session, kind, payload, **kwargs)
        session.flush()
        return entry.id


def entry(context: AppContext, entry_id: int) -> OutboxEntry:
    with context.sessions() as session:
        row = session.get(OutboxEntry, entry_id)
        assert row is not None
        return row


def entries(context: AppContext, kind: str | None = None) -> list[OutboxEntry]:
    with context.sessions() as session:
        query = select(OutboxEntry).order_by(OutboxEntry.id)
        if kind is not None:
            query = query.where(OutboxEntry.kind == kind)
        return list(session.scalars(query).all())


def sms_reply_payload(secret: ServerSecret, *, to: str, sender: str, body: str) -> dict[str, str]:
    route = json.dumps({"to": to, "from": sender}).encode("utf-8")
    return {
        "to_sealed": b64e(seal_draft(secret, route)),
        "body_sealed": b64e(seal_draft(secret, body.encode("utf-8"))),
    }


def notify_payload(address: str, **changes: str) -> dict[str, str]:
    return {
        "case_ref": "C-0123456789AB",
        "focal_point": "ke-coordinator",
        "address": address,
        "event": "new_case",
        "due_at": "2030-01-02T03:04:05Z",
        **changes,
    }
