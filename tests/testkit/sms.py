"""Twilio webhook deliveries for tests, signed exactly as Twilio signs them."""

from __future__ import annotations

import itertools
import re
import secrets
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from channels.sms.models import ProcessedMessage, SmsConversation
from intake import i18n
from intake.context import AppContext
from intake.models import AuditEvent, Case, OutboxEntry
from intake.routing_tables.store import store_table
from testkit.keys import Keyring, routing_table_toml

PATH = "/channels/sms/twilio"
URL = "https://intake.example.org" + PATH
TOKEN = "test-twilio-token"
KE_NUMBER = "+254700000001"  # sw, en
SO_NUMBER = "+252610000001"  # so
_counter = itertools.count(1)


def new_sid() -> str:
    return "SM" + secrets.token_hex(16)


def new_phone_number() -> str:
    """A distinct sender for each call (tests share nothing through the sender key)."""
    return f"+2547{next(_counter):08d}"


def signature(params: Mapping[str, str], *, url: str = URL, token: str = TOKEN) -> str:
    return str(RequestValidator(token).compute_signature(url, dict(params)))


def twilio_params(sender: str, receiver: str, body: str, sid: str) -> dict[str, str]:
    """The fields Twilio posts for an inbound SMS, location fields included."""
    return {
        "ToCountry": "KE",
        "ToState": "Nairobi",
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "ToCity": "NAIROBI",
        "FromZip": "00100",
        "SmsSid": sid,
        "FromState": "Turkana",
        "SmsStatus": "received",
        "FromCity": "KAKUMA",
        "Body": body,
        "FromCountry": "KE",
        "To": receiver,
        "ToZip": "00200",
        "NumSegments": "1",
        "MessageSid": sid,
        "AccountSid": "AC" + "0" * 32,
        "From": sender,
        "ApiVersion": "2010-04-01",
    }


def messages(response: httpx.Response) -> list[str]:
    """The texts of the `<Message>` elements of a TwiML answer."""
    root = ET.fromstring(response.text)  # noqa: S314 - our own server's answer
    assert root.tag == "Response"
    return [element.text or "" for element in root.findall("Message")]


@dataclass
class Phone:
    """One reporter's phone talking to one of our numbers."""

    client: TestClient
    number: str = field(default_factory=new_phone_number)
    to: str = KE_NUMBER
    url: str = URL
    token: str = TOKEN

    def deliver(
        self, body: str, *, sid: str | None = None, extra: Mapping[str, str] | None = None
    ) -> httpx.Response:
        params = {**twilio_params(self.number, self.to, body, sid or new_sid()), **(extra or {})}
        headers = {"X-Twilio-Signature": signature(params, url=self.url, token=self.token)}
        return self.client.post(PATH, data=params, headers=headers)

    def say(self, body: str, *, extra: Mapping[str, str] | None = None) -> list[str]:
        response = self.deliver(body, extra=extra)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("application/xml")
        return messages(response)


EVERY_LANGUAGE_NUMBER = "+254700000002"  # added by `with_every_language_number`
RECEIPT = re.compile(r"\b\d{4} \d{4} \d{4} \d{4}\b")


def with_every_language_number(context: AppContext, keyring: Keyring) -> None:
    """Load a newer routing table with one more number offering every shipped language."""
    languages = ", ".join(f'"{code}"' for code in i18n.SHIPPED)
    extra = (
        f'\n[[numbers]]\nnumber = "{EVERY_LANGUAGE_NUMBER}"\ncountry = "KE"\n'
        f"languages = [{languages}]\n"
    )
    with context.sessions() as session, session.begin():
        store_table(session, routing_table_toml(keyring, version="test-2") + extra, loaded_by="t")


def counts(context: AppContext) -> dict[str, int]:
    """Rows the SMS channel may write, by table (outbox by kind)."""
    with context.sessions() as session:
        found = {
            model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Case, SmsConversation, ProcessedMessage, AuditEvent)
        }
        for kind, number in session.execute(
            select(OutboxEntry.kind, func.count()).group_by(OutboxEntry.kind)
        ):
            found[f"outbox:{kind}"] = number
    return found


def receipt_in(replies: list[str]) -> str:
    match = RECEIPT.search(" ".join(replies))
    assert match is not None, replies
    return match.group(0)
