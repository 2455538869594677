"""Any order of SMS messages, keywords, menu answers and redeliveries (issue 10).

A hypothesis state machine drives the real Twilio webhook. Whatever arrives,
every answer is a 200 with valid TwiML whose messages fit 3 SMS, a
redelivered MessageSid gets the identical reply and changes nothing, and the
Case rows are exactly the reports whose receipt a reporter was sent after
seeing the summary and answering "send it".
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select
from testkit.databases import SqliteTemplates
from testkit.sms import (
    KE_NUMBER,
    PATH,
    RECEIPT,
    SO_NUMBER,
    new_phone_number,
    new_sid,
    signature,
    twilio_params,
)

from channels.sms import texts as t
from channels.sms.answers import (
    receipt_reply,
)
from channels.sms.conversation import (
    category_menu,
    contact_menu,
    reporter_menu,
    send_menu,
)
from channels.sms.segments import segment_count
from channels.sms.texts import SmsTexts
from intake.context import AppContext
from intake.i18n import SHIPPED, language_info
from intake.models import Case

MACHINE_SETTINGS = settings(
    max_examples=25,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
LANGUAGES = ("en", "sw", "so")  # what the two test numbers offer
ALL_TEXTS = [SmsTexts(language) for language in SHIPPED]


@pytest.fixture
def database_url(_sqlite_templates: SqliteTemplates, tmp_path: Path) -> Iterator[str]:
    """SQLite only: hundreds of deliveries per run would slow CI down on both backends;
    the conversation does not depend on the backend (exactly-once runs on both)."""
    with _sqlite_templates.fresh(tmp_path / "db") as url:
        yield url


def _keyword_forms(keyword: str) -> list[str]:
    forms = {keyword}
    for language in LANGUAGES:
        forms.update(form.strip() for form in SmsTexts(language).raw(t.KEYWORD, keyword).split("|"))
    return sorted(forms)


def _menu_answers() -> list[str]:
    answers = {"1", "2.", "#3", "4)", "٢", "yes", "no"}
    for language in LANGUAGES:
        texts = SmsTexts(language)
        answers.add(language_info(language).native_name)
        for keyword in (t.YES, t.NO):
            answers.update(texts.raw(t.KEYWORD, keyword).split("|"))
        for menu in (category_menu(texts), reporter_menu(texts), contact_menu(texts)):
            answers.update(option.label for option in menu.options)
        answers.update(option.label for option in send_menu(texts).options)
    return sorted(answers)


KEYWORDS = [
    form for keyword in (t.DONE, t.STOP, t.HELP, t.STATUS) for form in _keyword_forms(keyword)
]
STATUS_WORDS = _keyword_forms(t.STATUS)
YES_ANSWERS = sorted(
    {"1", "1.", "yes", "Yes, send it"}
    | {form for language in LANGUAGES for form in _keyword_forms(t.YES) if form}
    | {
        option.label
        for language in LANGUAGES
        for option in send_menu(SmsTexts(language)).options[:1]
    }
)
WORDS = ["hello", "Habari", "Salaan", "English", "Kiswahili", "harassment", "fraud", "maybe"]
SCRIPT_ACCOUNT = "A driver asked me for money for the food card."
free_text = st.text(
    st.one_of(
        st.characters(codec="utf-8"),  # any text a form can carry
        st.sampled_from("مرحبا بكم، ساعدني ١٢٣😀👍🏽\u200d❤️é€{}"),
    ),
    max_size=600,  # past the 500-character name limit
)
receipt_like = st.lists(st.integers(0, 9999), min_size=4, max_size=4).map(
    lambda groups: " ".join(f"{group:04d}" for group in groups)
)


@dataclass(frozen=True)
class Delivery:
    sender: str
    receiver: str
    body: str
    sid: str
    replies: tuple[str, ...]


def valid_replies(status: int, content_type: str, text: str) -> tuple[str, ...]:
    """The `<Message>` texts of a webhook answer that must be a 200 with fitting TwiML."""
    assert status == 200, text
    assert content_type.startswith("application/xml")
    root = ET.fromstring(text)  # noqa: S314 - our own server's answer
    assert root.tag == "Response"
    assert [child.tag for child in root] == ["Message"] * len(root)
    replies = tuple(child.text or "" for child in root)
    assert replies
    for reply in replies:
        assert reply.strip()
        assert segment_count(reply) <= 3
    return replies


def confirmation(replies: tuple[str, ...]) -> str | None:
    """The receipt when a reply is the receipt text (not an example or an echoed account)."""
    for reply in replies:
        for match in RECEIPT.finditer(reply):
            if any(reply == receipt_reply(texts.language, match.group(0)) for texts in ALL_TEXTS):
                return match.group(0)
    return None


def _is(reply: str, message: str) -> bool:
    return any(reply == texts.text(message) for texts in ALL_TEXTS)


def _shows_send_question(reply: str) -> bool:
    return any(texts.label(t.ASK_SEND) in reply for texts in ALL_TEXTS)


def _agrees_to_send(body: str) -> bool:
    return any(send_menu(texts).choose(body) == "yes" for texts in ALL_TEXTS)


class SmsConversations(RuleBasedStateMachine):
    """Two phones writing to the two test numbers, in any order."""

    def __init__(self, client: TestClient, context: AppContext, confirmed: list[str]) -> None:
        super().__init__()
        self.client, self.context, self.all_confirmed = client, context, confirmed
        self.phones = [new_phone_number(), new_phone_number()]
        self.sender, self.receiver = self.phones[0], KE_NUMBER
        self.delivered: list[Delivery] = []
        self.confirmed: set[str] = set()
        self.saw_summary = dict.fromkeys(self.phones, False)
        self.cases_before = self._cases()

    def _cases(self) -> int:
        with self.context.sessions() as session:
            return session.scalar(select(func.count()).select_from(Case)) or 0

    def _post(self, sender: str, receiver: str, body: str, sid: str) -> tuple[str, ...]:
        params = twilio_params(sender, receiver, body, sid)
        headers = {"X-Twilio-Signature": signature(params)}
        response = self.client.post(PATH, data=params, headers=headers)
        return valid_replies(
            response.status_code, response.headers.get("content-type", ""), response.text
        )

    def send(self, body: str) -> tuple[str, ...]:
        sid = new_sid()
        replies = self._post(self.sender, self.receiver, body, sid)
        self.delivered.append(Delivery(self.sender, self.receiver, body, sid, replies))
        self._observe(body, replies)
        return replies

    def _observe(self, body: str, replies: tuple[str, ...]) -> None:
        receipt = confirmation(replies)
        if receipt is not None:
            # Only a reporter who was shown the summary and said "send it" gets a case.
            assert self.saw_summary[self.sender]
            assert _agrees_to_send(body)
            assert receipt not in self.confirmed
            self.confirmed.add(receipt)
            self.all_confirmed.append(receipt)
            self.saw_summary[self.sender] = False
        elif any(_is(reply, t.STOPPED) or _is(reply, t.NOT_SENT) for reply in replies):
            self.saw_summary[self.sender] = False
        elif any(_shows_send_question(reply) for reply in replies):
            self.saw_summary[self.sender] = True

    @initialize()
    def start_at_summary(self) -> None:
        self.walk_to_summary()

    @rule()
    def walk_to_summary(self) -> None:
        """Right answers from a fresh start, so confirmations happen often enough."""
        self.send("STOP")
        self.send("hello")
        if self.receiver == KE_NUMBER:
            self.send("2")  # English
        for answer in ("1", "1", "1", "1", SCRIPT_ACCOUNT, "DONE"):
            self.send(answer)
        assert self.saw_summary[self.sender]

    @rule(body=st.sampled_from(_menu_answers()))
    def menu_answer(self, body: str) -> None:
        self.send(body)

    @rule(body=st.sampled_from(YES_ANSWERS))
    def say_send_it(self, body: str) -> None:
        self.send(body)

    @rule(number=st.integers(0, 12))
    def number(self, number: int) -> None:
        self.send(str(number))

    @rule(word=st.sampled_from(WORDS))
    def word(self, word: str) -> None:
        self.send(word)

    @rule(keyword=st.sampled_from(KEYWORDS), shout=st.booleans())
    def keyword(self, keyword: str, shout: bool) -> None:
        self.send(keyword.upper() if shout else f" {keyword.lower()} ")

    @rule(word=st.sampled_from(STATUS_WORDS), receipt=receipt_like)
    def status_of_a_guess(self, word: str, receipt: str) -> None:
        replies = self.send(f"{word} {receipt}")
        assert confirmation(replies) is None

    @precondition(lambda self: bool(self.confirmed))
    @rule(data=st.data())
    def status_of_a_receipt(self, data: st.DataObject) -> None:
        receipt = data.draw(st.sampled_from(sorted(self.confirmed)))
        replies = self.send(f"STATUS {receipt.replace(' ', '-')}")
        assert not any(_is(reply, t.STATUS_UNKNOWN) for reply in replies)

    @rule(text=free_text)
    def free_text(self, text: str) -> None:
        self.send(text)

    @precondition(lambda self: bool(self.delivered))
    @rule(data=st.data())
    def redeliver(self, data: st.DataObject) -> None:
        earlier = data.draw(st.sampled_from(self.delivered))
        again = self._post(earlier.sender, earlier.receiver, earlier.body, earlier.sid)
        assert again == earlier.replies

    @rule(index=st.integers(0, 1))
    def switch_phone(self, index: int) -> None:
        self.sender = self.phones[index]

    @rule(receiver=st.sampled_from([KE_NUMBER, SO_NUMBER]))
    def switch_number(self, receiver: str) -> None:
        self.receiver = receiver

    @invariant()
    def cases_are_the_confirmed_reports(self) -> None:
        assert self._cases() == self.cases_before + len(self.confirmed)


def test_no_order_of_messages_crashes_or_makes_an_unconfirmed_case(
    app: FastAPI, client: TestClient
) -> None:
    context: AppContext = app.state.context
    confirmed: list[str] = []

    class Bound(SmsConversations):
        def __init__(self) -> None:
            super().__init__(client, context, confirmed)

    run_state_machine_as_test(Bound, settings=MACHINE_SETTINGS)
    assert confirmed  # the machine reached real reports, not only refusals
    assert len(set(confirmed)) == len(confirmed)  # every receipt is a new case
