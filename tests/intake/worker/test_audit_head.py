"""The daily audit head: mailed to `[audit] notify`, once a day, content-free."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select
from testkit.clock import Clock
from testkit.keys import Keyring, routing_table_toml
from testkit.outbox import ContextFactory
from testkit.receivers import SmtpReceiver

from intake.audit import trail as audit
from intake.db import transaction
from intake.models import OutboxEntry
from intake.routing_tables.store import store_table
from intake.settings import Settings
from intake.worker.run import Worker

AUDIT_BOX = "mailto:audit-keeper@example.org"


@pytest.fixture
def routing_toml(keyring: Keyring) -> str:
    return routing_table_toml(keyring) + f'\n[audit]\nnotify = ["{AUDIT_BOX}"]\n'


@pytest.fixture
def smtp() -> Iterator[SmtpReceiver]:
    with SmtpReceiver() as receiver:
        yield receiver


def test_the_head_is_mailed_once_a_day(
    settings: Settings, smtp: SmtpReceiver, make_context: ContextFactory
) -> None:
    mail_settings = settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp.port,
            "smtp_from": "intake@psea.example.org",
            "smtp_security": "none",
        }
    )
    context = make_context(mail_settings)
    with transaction(context.sessions) as session:
        audit.append(session, actor="tests", action="test.first")
        newest = audit.head(session)
    assert newest is not None
    clock = Clock()
    worker = Worker(context, clock=clock)
    worker.run_once()
    worker.run_once()
    (mail,) = smtp.mails
    assert mail.rcpt_to == ("audit-keeper@example.org",)
    body = mail.message.get_content()
    assert f"intake audit verify --head {newest.seq}:{newest.hash}" in body
    assert re.search(r"case|C-[0-9A-Z]{12}", mail.message["Subject"]) is None
    clock.advance(timedelta(days=1))
    worker.run_once()
    assert len(smtp.mails) == 2


def test_without_an_audit_section_nothing_is_sent(
    settings: Settings, make_context: ContextFactory, keyring: Keyring
) -> None:
    context = make_context(settings)
    with transaction(context.sessions) as session:
        audit.append(session, actor="tests", action="test.first")
        store_table(session, routing_table_toml(keyring), loaded_by="tests")
    Worker(context).run_once()
    with context.sessions() as session:
        queued = session.scalars(
            select(OutboxEntry.id).where(OutboxEntry.dedupe_key.like("audit_head:%"))
        ).all()
    assert queued == []


def test_the_head_is_queued_when_the_section_is_there(
    make_context: ContextFactory, settings: Settings
) -> None:
    context = make_context(settings)
    with transaction(context.sessions) as session:
        audit.append(session, actor="tests", action="test.first")
    Worker(context).run_once()
    with context.sessions() as session:
        payloads = session.scalars(
            select(OutboxEntry.payload).where(OutboxEntry.dedupe_key.like("audit_head:%"))
        ).all()
    assert len(payloads) == 1
    assert set(json.loads(payloads[0])) == {"event", "address", "seq", "hash", "at"}
