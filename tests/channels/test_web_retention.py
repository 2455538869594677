"""Follow-up of a shredded case on the web (SPEC 12): the status, no messages, no reply form."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from testkit.cases import case_by_ref, report
from testkit.keys import Keyring, routing_table_toml

from intake.cases.retention import run_retention
from intake.context import AppContext
from intake.db import transaction
from intake.models import CaseEvent, CaseMessage, utcnow


@pytest.fixture
def routing_toml(keyring: Keyring) -> str:
    return routing_table_toml(keyring) + '\n[retention]\nclosed_days = {"*" = 0}\n'


def _hidden(page: str, name: str) -> str:
    match = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)"', page)
    assert match is not None, name
    return html.unescape(match.group(1))


def _open(client: TestClient, receipt: str, lang: str) -> httpx.Response:
    form = client.get(f"/followup?lang={lang}").text
    data = {"csrf_token": _hidden(form, "csrf_token"), "receipt": receipt, "language": lang}
    return client.post(f"/followup?lang={lang}", data=data)


def _close_and_shred(context: AppContext, case_ref: str) -> None:
    with transaction(context.sessions) as session:
        case = case_by_ref(session, case_ref)
        case.status = "closed"
        session.add(CaseEvent(case_id=case.id, type="closed", at=utcnow(), actor="unicef"))
    assert run_retention(context, now=utcnow() + timedelta(minutes=1), actor="test").total == 1


def _messages(context: AppContext, case_ref: str) -> int:
    with context.sessions() as session:
        case = case_by_ref(session, case_ref)
        query = select(func.count()).where(CaseMessage.case_id == case.id)
        return int(session.scalar(query) or 0)


@pytest.mark.parametrize("lang", ["en", "sw", "ar"])
def test_the_page_shows_the_status_and_says_the_messages_are_gone(
    app: FastAPI, client: TestClient, lang: str
) -> None:
    context: AppContext = app.state.context
    answer = client.post("/api/v1/reports", json=report()).json()
    before = _open(client, answer["receipt"], lang)
    assert 'name="reply_to"' in before.text
    _close_and_shred(context, answer["case_ref"])
    page = _open(client, answer["receipt"], lang)
    assert page.status_code == 200
    assert 'id="shredded"' in page.text
    assert 'name="reply_to"' not in page.text  # no reply form
    data = {
        "csrf_token": _hidden(before.text, "csrf_token"),
        "language": lang,
        "reply_to": _hidden(before.text, "reply_to"),
        "text": "a reply from the page opened before",
    }
    late = client.post(f"/followup?lang={lang}", data=data)
    assert late.status_code == 409
    assert 'id="shredded"' in late.text
    assert _messages(context, answer["case_ref"]) == 0
