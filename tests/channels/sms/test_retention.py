"""SMS after retention (SPEC 12): STATUS still answers; REPLY stores nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from testkit.cases import case_by_ref, report
from testkit.keys import Keyring, routing_table_toml
from testkit.sms import Phone

from channels.sms.answers import reply_result, status_reply
from intake.cases.retention import run_retention
from intake.context import AppContext
from intake.db import transaction
from intake.models import CaseEvent, CaseMessage, utcnow

LANGUAGES = ("sw", "en")  # the number's languages


@pytest.fixture
def routing_toml(keyring: Keyring) -> str:
    return routing_table_toml(keyring) + '\n[retention]\nclosed_days = {"*" = 0}\n'


def test_status_answers_and_a_reply_is_refused_after_the_shred(
    app: FastAPI, client: TestClient
) -> None:
    context: AppContext = app.state.context
    answer = client.post("/api/v1/reports", json=report(language="en")).json()
    with transaction(context.sessions) as session:
        case = case_by_ref(session, answer["case_ref"])
        case.status = "closed"
        session.add(CaseEvent(case_id=case.id, type="closed", at=utcnow(), actor="unicef"))
    assert run_retention(context, now=utcnow() + timedelta(minutes=1), actor="test").total == 1
    phone = Phone(client)
    status = phone.say(f"STATUS {answer['receipt']}")
    assert status in ([status_reply(lang, "closed", None)] for lang in LANGUAGES)
    refused = phone.say(f"REPLY {answer['receipt']} are you there")
    assert refused in ([reply_result(lang, reason="unknown")] for lang in LANGUAGES)
    with context.sessions() as session:
        case = case_by_ref(session, answer["case_ref"])
        count = session.scalar(select(func.count()).where(CaseMessage.case_id == case.id))
    assert count == 0
