"""The webhook's refusals (SPEC 4, 15) and exactly-once answers to redelivered webhooks."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from starlette.datastructures import MultiDict
from testkit.fake_twilio import FakeTwilio
from testkit.sms import TOKEN, signature
from testkit.voice import EN_VOICE, PATH, URL, Call, call_params, new_recording_sid, tiny_wav
from twilio.request_validator import RequestValidator

from channels.voice.models import VoiceAnswer, VoiceCall
from intake.context import AppContext
from intake.models import Case, CaseAttachment, OutboxEntry

from .calls import call_to_receipt


def _counts(context: AppContext) -> dict[str, int]:
    with context.sessions() as session:
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Case, CaseAttachment, OutboxEntry, VoiceCall, VoiceAnswer)
        }


def test_a_missing_or_wrong_signature_gets_403_and_stores_nothing(
    client: TestClient, context: AppContext
) -> None:
    before = _counts(context)
    params = call_params("CA" + "1" * 32, "+254711000001", EN_VOICE)
    assert client.post(PATH, data=params).status_code == 403
    forged = {"X-Twilio-Signature": signature(params, token="not-the-token")}
    assert client.post(PATH, data=params, headers=forged).status_code == 403
    other_url = {"X-Twilio-Signature": signature(params, url=URL + "?t=1")}
    assert client.post(PATH, data=params, headers=other_url).status_code == 403
    assert _counts(context) == before


def _signed(client: TestClient, params: dict[str, str]) -> int:
    headers = {"X-Twilio-Signature": signature(params, url=URL)}
    return client.post(PATH, data=params, headers=headers).status_code


def test_malformed_requests_get_400_and_store_nothing(
    client: TestClient, context: AppContext
) -> None:
    before = _counts(context)
    good = call_params("CA" + "1" * 32, "+254711000001", EN_VOICE)
    assert _signed(client, {**good, "CallSid": "CA" + "1" * 31}) == 400
    assert _signed(client, {**good, "CallSid": "CA" + "A" * 32}) == 400
    assert _signed(client, {**good, "AccountSid": "AC" + "9" * 32}) == 400
    assert _signed(client, {**good, "RecordingSid": "RE123"}) == 400
    repeated = [*good.items(), ("Digits", "1"), ("Digits", "2")]
    body = "&".join(f"{k}={v}".replace("+", "%2B") for k, v in repeated)
    sig = str(RequestValidator(TOKEN).compute_signature(URL, MultiDict(repeated)))
    response = client.post(
        PATH,
        content=body,
        headers={"X-Twilio-Signature": sig, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 400
    assert _counts(context) == before


def test_a_number_without_voice_is_told_so_and_hung_up(client: TestClient) -> None:
    answer = Call(client, to="+254700000001").start()  # an SMS-only number
    assert "does not take reports" in answer.said
    assert answer.hangs_up


def test_a_redelivered_menu_webhook_gets_the_first_answer_and_changes_nothing(
    client: TestClient, context: AppContext
) -> None:
    call = Call(client, to=EN_VOICE)
    first = call.start()
    before = _counts(context)
    again = call.post(URL)
    assert again.text == first.response.text
    assert _counts(context) == before
    chosen = call.press("3")
    assert chosen.records
    redelivered = call.post(first.action or "", {"Digits": "3"})
    assert redelivered.text == chosen.response.text


def test_a_redelivered_recording_gives_the_same_receipt_and_one_case(
    client: TestClient, context: AppContext, fake_twilio: FakeTwilio
) -> None:
    call = Call(client, to=EN_VOICE)
    call.start()
    asked = call.press("1")
    recording = new_recording_sid()
    fake_twilio.add_recording(recording, tiny_wav(), call_sid=call.call_sid)
    answer = call.record(recording)
    extra = {"Digits": "#", "RecordingSid": recording, "RecordingDuration": "12"}
    again = call.post(asked.action or "", {**extra, "RecordingUrl": _url_of(call, recording)})
    assert again.text == answer.response.text
    counts = _counts(context)
    assert counts["cases"] == 1
    assert counts["case_attachments"] == 1


def _url_of(call: Call, recording: str) -> str:
    return (
        "https://api.twilio.com/2010-04-01/Accounts/"
        f"{call_params(call.call_sid, call.caller, call.to)['AccountSid']}/Recordings/{recording}"
    )


def test_a_webhook_of_an_old_turn_changes_nothing(client: TestClient, context: AppContext) -> None:
    call = Call(client, to=EN_VOICE)
    first = call.start()
    call.press("2")
    before = _counts(context)
    stale = call.post(first.action or "", {"Digits": "5"})
    assert stale.status_code == 200
    assert "<Say" not in stale.text
    assert _counts(context) == before


def test_the_status_of_an_earlier_report_is_heard(
    client: TestClient, fake_twilio: FakeTwilio
) -> None:
    _call, _answer, receipt = call_to_receipt(client, fake_twilio)
    call = Call(client, to=EN_VOICE)
    call.start()
    asked = call.press("9")
    assert "16 digits" in asked.said
    heard = call.press(receipt + "#")
    assert "sent to the people who handle it" in heard.said
    assert heard.hangs_up
    other = Call(client, to=EN_VOICE)
    other.start()
    other.press("9")
    assert "did not find" in other.press("0" * 16).said


def test_concurrent_deliveries_of_the_recording_store_one_case(
    client: TestClient, context: AppContext, fake_twilio: FakeTwilio
) -> None:
    call = Call(client, to=EN_VOICE)
    call.start()
    asked = call.press("4")
    recording = new_recording_sid()
    extra = {"Digits": "#", "RecordingSid": recording, "RecordingUrl": _url_of(call, recording)}
    start = threading.Barrier(6)

    def deliver(_: int) -> str:
        start.wait()
        response = call.post(asked.action or "", extra)
        assert response.status_code == 200
        return response.text

    with ThreadPoolExecutor(6) as pool:
        answers = set(pool.map(deliver, range(6)))
    assert len(answers) == 1
    counts = _counts(context)
    assert (counts["cases"], counts["case_attachments"]) == (1, 1)
