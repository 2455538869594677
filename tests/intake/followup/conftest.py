"""Fixtures for follow-up tests: an app context, filed cases and sealed messages."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from testkit.cases import case_by_ref, report
from testkit.keys import Keyring

from crypto.envelope import case_aad, seal
from crypto.kdf import KdfCost
from crypto.receipt import seal_to_public_key
from intake.app import build_context
from intake.context import AppContext
from intake.models import CaseMessage, RateCounter
from intake.pipeline import Submission, submit
from intake.schemas import ReportIn
from intake.settings import Settings

# (case_ref, receipt as the reporter got it: grouped)
FileCase = Callable[..., tuple[str, str]]
AddMessage = Callable[[AppContext, str, str, datetime], None]
ContextFor = Callable[..., AppContext]


@pytest.fixture
def context_for(settings: Settings, loaded_routing: str, kdf_cost: KdfCost) -> Iterator[ContextFor]:
    """Builds AppContexts on the test database, like separate server processes."""
    made: list[AppContext] = []

    def build(**overrides: Any) -> AppContext:
        context = build_context(settings.model_copy(update=overrides), receipt_cost=kdf_cost)
        made.append(context)
        return context

    yield build
    for context in made:
        context.close()


@pytest.fixture
def context(context_for: ContextFor) -> AppContext:
    return context_for()


@pytest.fixture
def file_case() -> FileCase:
    def file(context: AppContext, **overrides: Any) -> tuple[str, str]:
        submission = Submission(
            report=ReportIn.model_validate(report(**overrides)), channel="api", language="en"
        )
        accepted = submit(context, submission)
        return accepted.case_ref, accepted.receipt

    return file


@pytest.fixture
def add_message(keyring: Keyring) -> AddMessage:
    """A focal point's message, sealed to the reporter's key and to the recipient."""

    def add(context: AppContext, case_ref: str, text: str, at: datetime) -> None:
        with context.sessions() as session, session.begin():
            case = case_by_ref(session, case_ref)
            envelope = seal(
                {"text": text},
                public_keys=[keyring.pairs["ke-unicef"].public_key],
                aad=case_aad(case_ref),
            )
            session.add(
                CaseMessage(
                    case_id=case.id,
                    at=at,
                    author="ke-unicef",
                    sealed_for_reporter=seal_to_public_key(text, case.receipt_public_key),
                    envelope=json.dumps(envelope),
                )
            )

    return add


def counter_total(context: AppContext, scope: str) -> int:
    with context.sessions() as session:
        total = session.scalar(
            select(func.coalesce(func.sum(RateCounter.count), 0)).where(RateCounter.scope == scope)
        )
    return int(total or 0)


@pytest.fixture
def counted() -> Callable[[AppContext, str], int]:
    return counter_total
