"""`REPLY <receipt> <text>` by SMS (SPEC 16): parsed in the pure conversation, sealed
and stored once per MessageSid, answered with a short confirmation that never
echoes the receipt or the text, in every language's keyword."""

from __future__ import annotations

import json
import logging

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from testkit.cases import case_by_ref, report
from testkit.keys import Keyring
from testkit.sms import (
    EVERY_LANGUAGE_NUMBER,
    Phone,
    messages,
    new_sid,
    with_every_language_number,
)
from testkit.storage import database_bytes

from channels.sms import texts as t
from channels.sms.answers import (
    reply_result,
)
from channels.sms.conversation import (
    Line,
    SendReply,
    State,
    Step,
    advance,
)
from crypto.envelope import case_aad, open_envelope
from intake.context import AppContext
from intake.followup.replies import REPLIES_PER_DAY
from intake.i18n import SHIPPED
from intake.logs import SafeJsonFormatter
from intake.models import CaseMessage

LINE = Line("KE", ("sw", "en"))
RECEIPT = "1234 5678 9012 3456"
TEXT = "Canary-SMSREPLY-9 he is back at the camp gate"
PHONE = "+254799555123"


def _context(client: TestClient) -> AppContext:
    context: AppContext = client.app.state.context  # type: ignore[attr-defined]
    return context


def _file(client: TestClient) -> tuple[str, str]:
    answer = client.post("/api/v1/reports", json=report()).json()
    return answer["case_ref"], answer["receipt"]


def _stored(client: TestClient, case_ref: str) -> list[CaseMessage]:
    with _context(client).sessions() as session:
        case = case_by_ref(session, case_ref)
        return list(session.scalars(select(CaseMessage).where(CaseMessage.case_id == case.id)))


# --- the pure conversation ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "receipt", "message"),
    [
        (f"REPLY {RECEIPT} {TEXT}", RECEIPT, TEXT),
        (f"reply 1234-5678-9012-3456   {TEXT}", "1234-5678-9012-3456", TEXT),
        ("Reply 1234567890123456 20 people saw it", "1234567890123456", "20 people saw it"),
        (f"JIBU {RECEIPT} asante\nna mstari", RECEIPT, "asante\nna mstari"),
    ],
)
def test_reply_is_parsed_into_receipt_and_text_kept_as_written(
    text: str, receipt: str, message: str
) -> None:
    outcome = advance(None, text, LINE)
    assert outcome.state is None  # no conversation starts or changes
    assert outcome.replies == ()
    assert isinstance(outcome.effect, SendReply)
    assert (outcome.effect.receipt_text, outcome.effect.text) == (receipt, message)


def test_reply_works_in_the_middle_of_a_report_and_leaves_it_as_it_was() -> None:
    state = State(Step.ACCOUNT, "sw", "sexual_abuse", "anonymous", False, None, ("part",))
    outcome = advance(state, f"REPLY {RECEIPT} {TEXT}", LINE)
    assert outcome.state == state
    assert isinstance(outcome.effect, SendReply)


@pytest.mark.parametrize("text", ["REPLY", f"REPLY {RECEIPT}", "REPLY 1234 5678 hello", "JIBU 12"])
def test_a_reply_without_receipt_or_text_explains_how(text: str) -> None:
    outcome = advance(None, text, LINE)
    assert outcome.effect is None
    [answer] = outcome.replies
    language = "sw" if text.startswith("JIBU") else "en"
    assert answer == t.SmsTexts(language).text(t.REPLY_HOW)
    assert "hello" not in answer


@pytest.mark.parametrize("language", SHIPPED)
def test_every_language_has_its_reply_keyword(language: str) -> None:
    texts = t.SmsTexts(language)
    line = Line("KE", (language,))
    for keyword in {texts.keyword_name(t.REPLY), "REPLY"}:
        outcome = advance(None, f"{keyword.lower()} {RECEIPT} {TEXT}", line)
        assert isinstance(outcome.effect, SendReply), keyword
        assert outcome.language == language


def test_french_takes_the_keyword_with_or_without_its_accent() -> None:
    line = Line("FR", ("fr",))
    for keyword in ("RÉPONDRE", "repondre", "Réponse"):
        assert isinstance(advance(None, f"{keyword} {RECEIPT} merci", line).effect, SendReply)


# --- through the webhook -----------------------------------------------------------------


def test_a_reply_by_sms_is_sealed_and_confirmed_without_echo(
    client: TestClient, keyring: Keyring
) -> None:
    case_ref, receipt = _file(client)
    phone = Phone(client, number=PHONE)
    [answer] = phone.say(f"REPLY {receipt} {TEXT}")
    assert answer == reply_result("en", reason="sent")
    assert receipt not in answer
    assert "Canary" not in answer
    [stored] = _stored(client, case_ref)
    assert stored.sender == "reporter"
    opened = open_envelope(
        json.loads(stored.envelope),
        private_key=keyring.pairs["ke-unicef"].private_key,
        aad=case_aad(case_ref),
    )
    assert opened == {"text": TEXT}
    body = client.post("/api/v1/followup", json={"receipt": receipt}).json()
    assert [message["text"] for message in body["messages"]] == [TEXT]


def test_a_redelivered_reply_is_stored_once_and_answered_the_same(client: TestClient) -> None:
    case_ref, receipt = _file(client)
    phone = Phone(client)
    sid = new_sid()
    first = messages(phone.deliver(f"REPLY {receipt} once", sid=sid))
    again = messages(phone.deliver(f"REPLY {receipt} once", sid=sid))
    assert first == again == [reply_result("en", reason="sent")]
    assert len(_stored(client, case_ref)) == 1


def test_the_answers_to_a_wrong_receipt_and_to_too_many_replies(client: TestClient) -> None:
    case_ref, receipt = _file(client)
    phone = Phone(client)
    assert phone.say(f"REPLY 1111 2222 3333 4444 {TEXT}") == [reply_result("en", reason="unknown")]
    for number in range(REPLIES_PER_DAY):
        assert phone.say(f"REPLY {receipt} reply {number}") == [reply_result("en", reason="sent")]
    assert phone.say(f"REPLY {receipt} one more") == [reply_result("en", reason="replies")]
    assert len(_stored(client, case_ref)) == REPLIES_PER_DAY


def test_the_confirmation_comes_in_the_keywords_language(
    client: TestClient, keyring: Keyring
) -> None:
    with_every_language_number(_context(client), keyring)
    _case_ref, receipt = _file(client)
    phone = Phone(client, to=EVERY_LANGUAGE_NUMBER)
    for language in ("fr", "ar", "am"):
        keyword = t.SmsTexts(language).keyword_name(t.REPLY)
        assert phone.say(f"{keyword} {receipt} merci") == [reply_result(language, reason="sent")]


def test_reply_texts_fit_three_segments_in_every_language() -> None:
    from channels.sms.segments import segment_count

    for language in SHIPPED:
        for reason in (
            "sent",
            "invalid",
            "too_long",
            "unreadable",
            "unknown",
            "limited",
            "replies",
        ):
            assert segment_count(reply_result(language, reason=reason)) <= 3, (language, reason)


def test_the_number_receipt_and_text_reach_no_storage_or_log(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    _case_ref, receipt = _file(client)
    phone = Phone(client, number=PHONE)
    phone.say(f"REPLY {receipt} {TEXT}")
    phone.say(f"REPLY 9999 8888 7777 6666 {TEXT}")
    stored = database_bytes(_context(client))
    formatter = SafeJsonFormatter()
    logs = "\n".join(
        f"{formatter.format(record)}\n{record.getMessage()}\n{record.__dict__!r}"
        for record in caplog.records
    )
    for needle in ("Canary-SMSREPLY", "camp gate", "799555123", receipt, receipt.replace(" ", "")):
        assert needle.encode() not in stored, needle
        assert needle not in logs, needle
