"""POST /channels/sms/twilio end to end: conversations become sealed, routed cases."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from starlette.datastructures import FormData
from testkit.cases import open_case
from testkit.keys import Keyring
from testkit.sms import (
    EVERY_LANGUAGE_NUMBER,
    KE_NUMBER,
    PATH,
    SO_NUMBER,
    TOKEN,
    URL,
    Phone,
    counts,
    messages,
    new_sid,
    receipt_in,
    signature,
    twilio_params,
    with_every_language_number,
)
from twilio.request_validator import RequestValidator

from channels.registry import installed
from channels.sms import store as sms_store
from channels.sms import texts as t
from channels.sms.models import ProcessedMessage
from crypto.kdf import KdfCost
from crypto.receipt import seal_to_public_key
from crypto.secretbox import open_draft
from intake.app import create_app
from intake.context import AppContext
from intake.models import Case, CaseMessage
from intake.settings import Settings


def _context(app: FastAPI) -> AppContext:
    context: AppContext = app.state.context
    return context


def _only_case(app: FastAPI) -> Case:
    with _context(app).sessions() as session:
        case = session.scalars(select(Case)).one()
        _ = case.recipients
        return case


def _text(language: str, message: str, **params: object) -> str:
    return t.SmsTexts(language).text(message, **params)


CONVERSATIONS = [
    pytest.param(
        KE_NUMBER,
        ["Hello", "2", "2", "wfp", "2", "Amina W., +254711000111", "1", "He asked for sex."]
        + ["DONE", "1"],
        {"language": "en", "category": "sexual_abuse", "reporter_type": "named", "contact": True}
        | {"account": 7, "affiliation": "WFP"},
        id="en",
    ),
    pytest.param(
        KE_NUMBER,
        ["Habari", "1", "1", "1", "1", "2", "Alinidai pesa.", "Kisha akanitishia.", "TAYARI", "1"],
        {"language": "sw", "category": "sexual_exploitation", "reporter_type": "anonymous"}
        | {"contact": False, "account": 6, "affiliation": "UNICEF"},
        id="sw",
    ),
    pytest.param(
        SO_NUMBER,
        ["Salaan", "3", "1", "1", "haa", "Wuu i dhibaateeyay.", "dhammaad", "haa"],
        {"language": "so", "category": "sexual_harassment", "reporter_type": "anonymous"}
        | {"contact": True, "account": 5, "affiliation": "UNHCR"},
        id="so",
    ),
    pytest.param(
        EVERY_LANGUAGE_NUMBER,
        ["Bonjour", "2", "4", "je ne sais pas", "oui", "Awa", "non"]
        + ["Le chef a exigé 🙏 de l'argent.", "fini", "1"],
        {"language": "fr", "category": "abuse_of_authority", "reporter_type": "named"}
        | {"contact": False, "account": 7, "affiliation": "unknown"},
        id="fr",
    ),
    pytest.param(
        EVERY_LANGUAGE_NUMBER,
        ["مرحبا", "٤", "٢", "٢", "١", "نعم", "طلب مني مالا مقابل الطعام. He said so.", "تم", "١"],
        {"language": "ar", "category": "sexual_abuse", "reporter_type": "anonymous"}
        | {"contact": True, "account": 6, "affiliation": "WFP"},
        id="ar",
    ),
]


@pytest.mark.parametrize(("to", "script", "expected"), CONVERSATIONS)
def test_a_conversation_becomes_a_sealed_routed_case(
    app: FastAPI,
    client: TestClient,
    keyring: Keyring,
    to: str,
    script: list[str],
    expected: dict[str, Any],
) -> None:
    with_every_language_number(_context(app), keyring)
    phone = Phone(client, to=to)
    replies = [phone.say(body) for body in script]
    language = expected["language"]
    receipt = receipt_in(replies[-1])
    assert replies[-1] == [_text(language, t.RECEIPT, receipt=receipt)]
    case = _only_case(app)
    assert (case.channel, case.language, case.category) == ("sms", language, expected["category"])
    assert case.reporter_type == expected["reporter_type"]
    assert case.country == ("SO" if to == SO_NUMBER else "KE")
    assert case.consent_contact_me is expected["contact"]
    assert case.affiliation == expected["affiliation"]  # the organisation question (SPEC 14)
    recipient = case.recipients[0].focal_point_id
    content = open_case(case, keyring.pairs[recipient])
    assert content["narrative"] == "\n".join(script[expected["account"] : -2])
    assert (content["reporter"] is not None) is (expected["reporter_type"] == "named")
    assert ("sms_from" in content) is expected["contact"]
    context = _context(app)
    if expected["contact"]:
        assert content["sms_from"] == phone.number
        route = json.loads(open_draft(context.secret, _reply_route(context, case.id)))
        assert route == {"to": phone.number, "from": to}
    else:
        with context.sessions() as session:
            assert sms_store.reply_route(session, case.id) is None
    found = counts(context)
    assert found["sms_conversations"] == 0
    assert found["processed_messages"] == len(script)
    assert found["outbox:twilio_redact"] == len(script)


def test_status_answers_with_the_case_status_and_latest_message(
    app: FastAPI, client: TestClient
) -> None:
    phone = Phone(client, to=SO_NUMBER)
    for body in ["Salaan", "2", "2", "1", "2", "Wuu i garaacay.", "DHAMMAAD"]:
        phone.say(body)
    receipt = receipt_in(phone.say("1"))
    routed = t.SmsTexts("so").label(t.STATUS_LABELS["routed"])
    assert phone.say(f"XAALAD {receipt.replace(' ', '-')}") == [
        _text("so", t.STATUS_IS, state=routed)
    ]
    case = _only_case(app)
    with _context(app).sessions() as session, session.begin():
        sealed = seal_to_public_key("Fadlan na soo wac. 🙏", case.receipt_public_key)
        session.add(
            CaseMessage(
                case_id=case.id, author="so-unhcr", sealed_for_reporter=sealed, envelope="{}"
            )
        )
    reply = Phone(client, to=SO_NUMBER).say(f"status {receipt}")  # from another phone too
    assert reply[0].endswith(t.SmsTexts("so").label(t.STATUS_MESSAGE) + " Fadlan na soo wac. 🙏")
    assert phone.say("STATUS 0000 0000 0000 0000") == [_text("so", t.STATUS_UNKNOWN)]
    assert phone.say("status") == [_text("so", t.STATUS_HOW)]
    assert phone.say("Status 12345") == [_text("so", t.STATUS_HOW)]


def test_help_and_stop_work_through_the_webhook(app: FastAPI, client: TestClient) -> None:
    phone = Phone(client)
    phone.say("Hi")
    phone.say("2")
    helping = phone.say("HELP")
    assert helping[0] == _text("en", t.HELP_TEXT)
    assert helping[1].startswith(t.CHOOSE_CATEGORY)
    phone.say("1")
    assert counts(_context(app))["sms_conversations"] == 1
    # Swahili STOP is just an answer in an English conversation: asked again.
    assert phone.say("acha")[0].startswith(t.NOT_UNDERSTOOD)
    assert phone.say("Stop") == [_text("en", t.STOPPED)]
    assert counts(_context(app))["sms_conversations"] == 0
    assert phone.say("1")[0].startswith(t.SmsTexts("sw").label(t.CHOOSE_LANGUAGE))


def test_an_unknown_number_gets_a_polite_reply_and_no_case(
    app: FastAPI, client: TestClient
) -> None:
    replies = Phone(client, to="+19995550100").say("I want to report something")
    assert replies[0].startswith(_text("en", t.UNKNOWN_NUMBER))
    found = counts(_context(app))
    assert found["cases"] == 0
    assert found["sms_conversations"] == 0


def test_whatsapp_works_the_same_and_replies_keep_the_prefix(
    app: FastAPI, client: TestClient, keyring: Keyring
) -> None:
    phone = Phone(client, number="whatsapp:+254722000333", to=f"whatsapp:{KE_NUMBER}")
    for body in ["Hi", "2", "1", "3", "1", "1", "He forced me.", "DONE"]:
        phone.say(body)
    receipt_in(phone.say("YES"))
    case = _only_case(app)
    assert case.channel == "sms"
    context = _context(app)
    route = json.loads(open_draft(context.secret, _reply_route(context, case.id)))
    assert route == {"to": "whatsapp:+254722000333", "from": f"whatsapp:{KE_NUMBER}"}
    content = open_case(case, keyring.pairs[case.recipients[0].focal_point_id])
    assert content["sms_from"] == "+254722000333"


def _post(client: TestClient, params: dict[str, str], headers: dict[str, str]) -> Any:
    return client.post(PATH, data=params, headers=headers)


FORGERIES = {
    "missing": lambda params: {},
    "empty": lambda params: {"X-Twilio-Signature": ""},
    "wrong token": lambda params: {"X-Twilio-Signature": signature(params, token="guess")},
    "other url": lambda params: {
        "X-Twilio-Signature": signature(params, url="https://evil.example/channels/sms/twilio")
    },
    "tampered body": lambda params: {
        "X-Twilio-Signature": signature({**params, "Body": "something else"})
    },
    "added field": lambda params: {"X-Twilio-Signature": signature({**params, "Extra": "1"})},
    "garbage": lambda params: {"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"},
}


@pytest.mark.parametrize("forgery", FORGERIES)
def test_forged_signatures_get_403_and_leave_no_trace(
    app: FastAPI, client: TestClient, forgery: str
) -> None:
    before = counts(_context(app))
    params = twilio_params("+254733000111", KE_NUMBER, "Forged message", new_sid())
    response = _post(client, params, FORGERIES[forgery](params))
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert set(response.json()) >= {"type", "title", "status", "detail"}
    assert "Forged" not in response.text
    assert counts(_context(app)) == before


def test_a_form_with_too_many_fields_is_refused_without_a_5xx(
    app: FastAPI, client: TestClient
) -> None:
    params = {f"Field{index}": "x" for index in range(150)}
    response = _post(client, params, {"X-Twilio-Signature": signature(params)})
    assert response.status_code == 400
    assert counts(_context(app))["processed_messages"] == 0


def test_a_signed_request_without_message_sid_is_refused(client: TestClient) -> None:
    params = twilio_params("+254733000111", KE_NUMBER, "Hi", new_sid())
    del params["MessageSid"]
    response = _post(client, params, {"X-Twilio-Signature": signature(params)})
    assert response.status_code == 400


def _signed_pairs(pairs: list[tuple[str, str]]) -> str:
    """Twilio's signature over a form with repeated names (its validator sorts each)."""
    validator = RequestValidator(TOKEN)
    return str(validator.compute_signature(URL, FormData(pairs)))


def _post_pairs(client: TestClient, pairs: list[tuple[str, str]], signed: str) -> httpx.Response:
    body = urlencode(pairs)
    headers = {
        "X-Twilio-Signature": signed,
        "Content-Type": "application/x-www-form-urlencoded",
    }
    return client.post(PATH, content=body, headers=headers)


def test_a_re_split_message_sid_is_refused_and_nothing_is_stored(
    app: FastAPI, client: TestClient
) -> None:
    """`MessageSid=SM…` + `NumMedia=0` re-split into one longer MessageSid signs the same:
    a replay with a new id that exactly-once would not recognise."""
    sid = new_sid()
    params = twilio_params("+254733000222", KE_NUMBER, "Hello", sid)
    assert _post(client, params, {"X-Twilio-Signature": signature(params)}).status_code == 200
    before = counts(_context(app))
    resplit = {key: value for key, value in params.items() if key != "NumMedia"}
    resplit["MessageSid"] = sid + "NumMedia0"
    assert signature(resplit) == signature(params)  # the attack: the signature still holds
    response = _post(client, resplit, {"X-Twilio-Signature": signature(params)})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert counts(_context(app)) == before


def test_a_re_split_body_with_a_repeated_parameter_is_refused(
    app: FastAPI, client: TestClient
) -> None:
    """`Body=aBodyb` signs the same as two Bodies `a` and `b`."""
    params = twilio_params("+254733000333", KE_NUMBER, "HELPBodySTOP", new_sid())
    original = signature(params)
    pairs = [(key, value) for key, value in params.items() if key != "Body"]
    pairs += [("Body", "STOP"), ("Body", "HELP")]
    assert _signed_pairs(pairs) == original
    before = counts(_context(app))
    assert _post_pairs(client, pairs, original).status_code == 400
    same_twice = [*params.items(), ("MessageSid", params["MessageSid"])]
    assert _post_pairs(client, same_twice, _signed_pairs(same_twice)).status_code == 400
    assert counts(_context(app)) == before


@pytest.mark.parametrize(
    "sid",
    [
        "SM" + "A" * 32,
        "SM" + "a" * 31,
        "SM" + "a" * 33,
        "XX" + "a" * 32,
        "sm" + "a" * 32,
        "SM" + "a" * 31 + "\u0661",
    ],
)
def test_a_malformed_message_sid_is_refused(app: FastAPI, client: TestClient, sid: str) -> None:
    params = twilio_params("+254733000444", KE_NUMBER, "Hello", sid)
    before = counts(_context(app))
    assert _post(client, params, {"X-Twilio-Signature": signature(params)}).status_code == 400
    assert counts(_context(app)) == before


def test_mms_ids_are_accepted(client: TestClient) -> None:
    params = twilio_params("+254733000555", KE_NUMBER, "Hello", "MM" + "0123456789abcdef" * 2)
    assert _post(client, params, {"X-Twilio-Signature": signature(params)}).status_code == 200


def test_another_account_sid_is_refused_when_ours_is_set(client_with: Any) -> None:
    ours = "AC" + "0" * 32
    client = client_with(twilio_account_sid="AC" + "1" * 32)
    params = twilio_params("+254733000666", KE_NUMBER, "Hello", new_sid())
    assert params["AccountSid"] == ours
    response = _post(client, params, {"X-Twilio-Signature": signature(params)})
    assert response.status_code == 400
    context: AppContext = client.app.state.context  # type: ignore[attr-defined]
    assert counts(context)["processed_messages"] == 0
    matching = client_with(twilio_account_sid=ours)
    assert _post(matching, params, {"X-Twilio-Signature": signature(params)}).status_code == 200


@pytest.fixture
def client_with(settings: Settings, loaded_routing: str, kdf_cost: KdfCost) -> Iterator[Any]:
    clients: list[TestClient] = []

    def build(**changes: Any) -> TestClient:
        app = create_app(
            settings.model_copy(update=changes), channels=installed(), receipt_cost=kdf_cost
        )
        test_client = TestClient(app, base_url="https://intake.example.org")
        clients.append(test_client.__enter__())
        return test_client

    yield build
    for test_client in clients:
        test_client.__exit__(None, None, None)


def test_sms_is_404_when_not_configured(client_with: Any) -> None:
    client = client_with(twilio_auth_token=None)
    response = Phone(client).deliver("Hello")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_the_signed_url_is_rebuilt_from_the_public_url(client_with: Any) -> None:
    public = "https://sms.example.net/intake"
    client = client_with(public_url=public)
    assert Phone(client, url=public + PATH).deliver("Hello").status_code == 200
    assert Phone(client, url=URL).deliver("Hello").status_code == 403


def test_the_query_string_is_part_of_the_signed_url(client: TestClient) -> None:
    params = twilio_params("+254733000999", KE_NUMBER, "Hello", new_sid())
    signed = {"X-Twilio-Signature": signature(params, url=URL + "?source=kenya")}
    assert client.post(PATH + "?source=kenya", data=params, headers=signed).status_code == 200
    assert client.post(PATH + "?source=other", data=params, headers=signed).status_code == 403


def test_no_redaction_is_queued_when_body_deletion_is_off(client_with: Any) -> None:
    client = client_with(twilio_delete_bodies=False)
    Phone(client).say("Hello")
    context: AppContext = client.app.state.context  # type: ignore[attr-defined]
    assert "outbox:twilio_redact" not in counts(context)
    assert counts(context)["processed_messages"] == 1


def test_too_many_reports_from_one_phone_keeps_the_report_for_later(client_with: Any) -> None:
    client = client_with(report_limit="1/hour")
    phone = Phone(client, to=SO_NUMBER)
    for round_ in range(2):
        for body in ["Salaan", "1", "2", "1", "2", f"Dhacdo {round_}.", "DHAMMAAD"]:
            phone.say(body)
        reply = phone.deliver("1", sid=(sid := new_sid()))
        answer = messages(reply)
    assert answer == [_text("so", t.TOO_MANY_REPORTS)]
    assert messages(phone.deliver("1", sid=sid)) == answer  # a redelivery: same answer
    context: AppContext = client.app.state.context  # type: ignore[attr-defined]
    found = counts(context)
    assert found["cases"] == 1
    assert found["sms_conversations"] == 1  # still waiting at the summary
    with context.sessions() as session:
        assert session.get(ProcessedMessage, sms_store.sid_key(context.secret, sid)) is not None


def test_control_characters_and_empty_bodies_still_give_valid_twiml(client: TestClient) -> None:
    phone = Phone(client, to=SO_NUMBER)
    for body in ["Salaan", "1", "2", "1", "2"]:
        phone.say(body)
    assert phone.say("") == [_text("so", t.UNREADABLE)]  # a picture without text
    phone.say("Qoraal \x01 leh \x0b calaamado & <xml>")
    summary = phone.say("DHAMMAAD")[0]  # parsed as XML by `messages`
    assert "Qoraal \ufffd leh \ufffd calaamado & <xml>" in summary


def _reply_route(context: AppContext, case_id: int) -> bytes:
    with context.sessions() as session:
        route = sms_store.reply_route(session, case_id)
    assert route is not None
    return route
