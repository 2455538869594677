"""Shared steps of the voice tests: a call up to its receipt, the worker, the case's audio."""

from __future__ import annotations

import base64
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from testkit.clock import Clock
from testkit.fake_twilio import FakeTwilio
from testkit.keys import Keyring
from testkit.voice import EN_VOICE, Answer, Call, new_recording_sid, spoken_receipt, tiny_wav

from channels.voice.outbound import FETCH_KIND, VoiceKinds
from crypto.envelope import case_aad, open_envelope
from intake.context import AppContext
from intake.models import Case
from intake.worker.run import Worker

RECIPIENT = "ke-coordinator"  # the KE catch-all rule's focal point


def call_to_receipt(
    client: TestClient, fake: FakeTwilio, *, to: str = EN_VOICE, category_key: str = "1"
) -> tuple[Call, Answer, str]:
    """A whole English call: category, the account recorded, the receipt heard."""
    call = Call(client, to=to)
    first = call.start()
    assert first.action is not None
    if to != EN_VOICE:
        call.press("1")
    asked = call.press(category_key)
    assert asked.records
    recording = new_recording_sid()
    fake.add_recording(recording, tiny_wav(), call_sid=call.call_sid)
    receipt_answer = call.record(recording)
    digits = spoken_receipt(receipt_answer)
    assert len(digits) == 16 + 16 + 1, receipt_answer.said
    assert digits[:16] == digits[16:32]
    return call, receipt_answer, digits[:16]


def the_case(context: AppContext) -> Case:
    with context.sessions() as session:
        return session.scalars(select(Case)).one()


def recording_worker(context: AppContext, clock: Clock | None = None) -> Worker:
    handlers = {FETCH_KIND: VoiceKinds(context).fetch_recording}
    return Worker(context, handlers=handlers, clock=clock or Clock())


def open_attachment(body: dict[str, Any], keyring: Keyring, case_ref: str) -> dict[str, Any]:
    content = open_envelope(
        body["envelope"], private_key=keyring.pairs[RECIPIENT].private_key, aad=case_aad(case_ref)
    )
    assert set(content) == {"mime", "data"}
    content["audio"] = base64.b64decode(content["data"])
    return content
