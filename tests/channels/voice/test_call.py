"""A whole call through the signed webhook, then the worker: case, receipt, audio, deletion."""

from __future__ import annotations

import json
from datetime import timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient
from testkit import staff as staff_accounts
from testkit.clock import Clock
from testkit.fake_twilio import FakeTwilio
from testkit.keys import Keyring
from testkit.voice import KE_VOICE, SO_VOICE, Call, tiny_wav

from crypto.envelope import case_aad, open_envelope
from crypto.kdf import KdfCost
from intake.context import AppContext

from .calls import RECIPIENT, call_to_receipt, open_attachment, recording_worker, the_case

PASSWORD = "a long staff passphrase"


def _focal_point(app: FastAPI, client: TestClient, kdf_cost: KdfCost) -> dict[str, str]:
    accounts = {"network": ("focal_point", RECIPIENT, None)}
    staff_accounts.create_accounts(app, kdf_cost, accounts, password=PASSWORD)
    return staff_accounts.bearer(client, "network", PASSWORD)


def test_a_whole_call_stores_the_case_reads_the_receipt_and_the_audio_follows(
    app: FastAPI,
    client: TestClient,
    context: AppContext,
    fake_twilio: FakeTwilio,
    keyring: Keyring,
    kdf_cost: KdfCost,
) -> None:
    call, answer, receipt = call_to_receipt(client, fake_twilio)
    assert 'language="en-GB"' in answer.response.text
    case = the_case(context)
    assert (case.channel, case.category, case.country) == ("voice", "sexual_exploitation", "KE")
    assert case.language == "en"
    sealed = open_envelope(
        json.loads(case.envelope),
        private_key=keyring.pairs[RECIPIENT].private_key,
        aad=case_aad(case.case_ref),
    )
    assert sealed["narrative"] == "(spoken account: see the audio attachment)"
    headers = _focal_point(app, client, kdf_cost)
    detail = client.get(f"/api/v1/cases/{case.case_ref}", headers=headers).json()
    assert detail["audio"] == "pending"
    (attachment,) = detail["attachments"]
    assert attachment["status"] == "pending"
    url = f"/api/v1/cases/{case.case_ref}/attachments/{attachment['id']}"
    assert client.get(url, headers=headers).status_code == 409

    assert recording_worker(context).run_once().sent == 1

    listed = client.get("/api/v1/cases", headers=headers).json()["items"]
    assert [item["audio"] for item in listed] == ["attached"]
    body = client.get(url, headers=headers)
    assert body.status_code == 200
    assert body.headers["cache-control"] == "no-store"
    opened = open_attachment(body.json(), keyring, case.case_ref)
    assert opened["mime"] == "audio/x-wav"
    assert opened["audio"] == tiny_wav()
    assert len(fake_twilio.deleted_recordings) == 1
    assert fake_twilio.deleted_calls == [call.call_sid]
    follow = client.post("/api/v1/followup", json={"receipt": receipt})
    assert follow.status_code == 200
    assert follow.json()["case_ref"] == case.case_ref


def test_a_recording_that_fails_twice_is_fetched_on_the_third_try(
    client: TestClient, context: AppContext, fake_twilio: FakeTwilio, keyring: Keyring
) -> None:
    call_to_receipt(client, fake_twilio)
    clock = Clock()
    worker = recording_worker(context, clock)
    fake_twilio.fail_next(2)
    assert worker.run_once().retried == 1
    assert worker.run_once().retried == 0  # backing off
    clock.advance(timedelta(hours=1))
    assert worker.run_once().retried == 1
    clock.advance(timedelta(hours=2))
    assert worker.run_once().sent == 1
    with context.sessions() as session:
        case = the_case(context)
        attachment = session.merge(case).attachments[0]
        assert attachment.status == "attached"
    gets = [seen for seen in fake_twilio.requests if seen.method == "GET"]
    assert [seen.status for seen in gets] == [500, 500, 200]
    assert len(fake_twilio.deleted_recordings) == 1
    assert len(fake_twilio.deleted_calls) == 1


def test_a_recording_gone_at_twilio_is_lost(
    app: FastAPI,
    client: TestClient,
    context: AppContext,
    fake_twilio: FakeTwilio,
    kdf_cost: KdfCost,
) -> None:
    call = Call(client, to="+254700000008")
    call.start()
    call.press("2")
    call.record("RE" + "0" * 32)  # never added to the fake: 404 when fetched
    assert recording_worker(context).run_once().failed == 1
    headers = _focal_point(app, client, kdf_cost)
    (item,) = client.get("/api/v1/cases", headers=headers).json()["items"]
    assert item["audio"] == "lost"


def test_retries_that_run_out_mark_the_audio_lost(
    client: TestClient, context: AppContext, fake_twilio: FakeTwilio
) -> None:
    call_to_receipt(client, fake_twilio)
    clock = Clock()
    worker = recording_worker(context, clock)
    fake_twilio.fail_next(100)
    for _ in range(12):
        worker.run_once()
        clock.advance(timedelta(hours=2))
    worker.run_once()  # the pass after the last failure marks the attachment
    with context.sessions() as session:
        assert session.merge(the_case(context)).attachments[0].status == "lost"


def test_swahili_is_played_from_recorded_prompts_and_english_is_said(
    client: TestClient,
) -> None:
    first = Call(client, to=KE_VOICE).start()
    assert "https://intake.example.org/channels/voice/prompts/sw/language_option.mp3" in (
        first.played
    )
    assert "For English, press" in first.said
    played = Call(client, to=SO_VOICE).start().played
    assert "https://intake.example.org/channels/voice/prompts/so/welcome.mp3" in played
