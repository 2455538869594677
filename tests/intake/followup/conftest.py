"""Fixtures for follow-up tests: an app context, filed cases and sealed messages."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from testkit.cases import add_sealed_message, report
from testkit.keys import Keyring

from channels.registry import installed
from crypto.kdf import KdfCost
from intake.app import build_context
from intake.context import AppContext
from intake.models import RateCounter
from intake.reports.schemas import ReportIn
from intake.reports.service import submit
from intake.reports.submission import Submission
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
        context = build_context(
            settings.model_copy(update=overrides), channels=installed(), receipt_cost=kdf_cost
        )
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
        add_sealed_message(context, keyring.pairs["ke-unicef"], case_ref, text, at)

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
