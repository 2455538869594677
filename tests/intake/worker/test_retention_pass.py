"""The worker's retention pass (SPEC 12): at start, then daily; several workers shred once."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from testkit.cases import case_by_ref, report
from testkit.clock import Clock
from testkit.keys import Keyring, routing_table_toml
from testkit.outbox import ContextFactory

from intake.commands.audit import check
from intake.context import AppContext
from intake.db import transaction
from intake.models import AuditEvent, CaseEvent, utcnow
from intake.reports.schemas import ReportIn
from intake.reports.service import submit
from intake.reports.submission import Submission
from intake.routing_tables.store import store_table
from intake.settings import Settings
from intake.worker.run import Worker

INTAKE = [sys.executable, "-m", "intake.cli"]
RETENTION = '\n[retention]\nclosed_days = {"*" = 1}\n'


@pytest.fixture
def routing_toml(keyring: Keyring) -> str:
    return routing_table_toml(keyring) + RETENTION


def closed_case(context: AppContext, closed_at: datetime) -> str:
    """A case stored by the intake path, then closed at `closed_at` (as the lifecycle does)."""
    body = ReportIn.model_validate(report())
    case_ref = submit(context, Submission(report=body, channel="web", language="en")).case_ref
    with transaction(context.sessions) as session:
        case = case_by_ref(session, case_ref)
        case.status = "closed"
        session.add(CaseEvent(case_id=case.id, type="closed", at=closed_at, actor="unicef"))
    return case_ref


def shredded(context: AppContext, case_ref: str) -> bool:
    with context.sessions() as session:
        return case_by_ref(session, case_ref).shredded_at is not None


def shred_entries(context: AppContext) -> list[str]:
    with context.sessions() as session:
        query = select(AuditEvent.case_ref).where(AuditEvent.action == "case.shredded")
        return [ref for ref in session.scalars(query) if ref is not None]


def test_a_pass_at_start_then_one_a_day(context: AppContext) -> None:
    clock = Clock()
    worker = Worker(context, clock=clock, handlers={})
    first = closed_case(context, clock() - timedelta(days=2))
    assert worker.run_once().shredded == 1  # the pass at start
    assert shredded(context, first)
    second = closed_case(context, clock() - timedelta(days=2))
    clock.advance(timedelta(hours=23))
    assert worker.run_once().shredded == 0  # not a day yet
    assert not shredded(context, second)
    clock.advance(timedelta(hours=1))
    assert worker.run_once().shredded == 1
    assert shredded(context, second)
    assert sorted(shred_entries(context)) == sorted([first, second])
    assert check(context.engine, context.secret) > 0


def test_a_case_not_yet_past_its_period_waits_for_a_later_day(context: AppContext) -> None:
    clock = Clock()
    worker = Worker(context, clock=clock, handlers={})
    recent = closed_case(context, clock() - timedelta(hours=12))
    assert worker.run_once().shredded == 0
    clock.advance(timedelta(days=1))
    assert worker.run_once().shredded == 1
    assert shredded(context, recent)


def test_two_workers_shred_each_case_once(settings: Settings, make_context: ContextFactory) -> None:
    contexts = [make_context(settings) for _ in range(3)]
    refs = [closed_case(contexts[0], utcnow() - timedelta(days=3)) for _ in range(12)]
    barrier = threading.Barrier(2)
    counts: list[int] = []

    def run(index: int) -> None:
        worker = Worker(contexts[index + 1], handlers={})
        barrier.wait()
        counts.append(worker.run_once().shredded)

    threads = [threading.Thread(target=run, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert sum(counts) == len(refs)
    assert sorted(shred_entries(contexts[0])) == sorted(refs)


def environment(settings: Settings) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("INTAKE_")}
    clean["INTAKE_DATA_DIR"] = str(settings.data_dir)
    clean["INTAKE_DATABASE_URL"] = settings.resolved_database_url
    return clean


def _intake(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [*INTAKE, *args],
        env=environment(settings),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result


def test_across_restarts_each_case_is_shredded_exactly_once(
    context: AppContext, settings: Settings
) -> None:
    case_ref = closed_case(context, utcnow() - timedelta(days=2))
    waiting = closed_case(context, utcnow())  # closed just now: a day to go
    dry = _intake(settings, "retention", "run", "--dry-run")
    assert dry.stdout.splitlines() == ["would shred 1 case", "sexual_abuse: 1"]
    assert not shredded(context, case_ref)
    _intake(settings, "worker", "--once")  # one process: its pass at start
    _intake(settings, "worker", "--once")  # restarted: the pass again, nothing left to do
    again = _intake(settings, "retention", "run")
    assert again.stdout.splitlines() == ["shredded 0 cases"]
    assert shred_entries(context) == [case_ref]
    assert not shredded(context, waiting)
    verified = _intake(settings, "audit", "verify")
    assert "audit trail intact" in verified.stdout
    with context.sessions() as session:
        count = session.scalar(select(func.count()).select_from(AuditEvent))
    assert count


def test_the_cli_run_prints_what_it_shredded_by_category(
    context: AppContext, settings: Settings
) -> None:
    closed_case(context, utcnow() - timedelta(days=2))
    closed_case(context, utcnow() - timedelta(days=2))
    result = _intake(settings, "retention", "run")
    assert result.stdout.splitlines() == ["shredded 2 cases", "sexual_abuse: 2"]


def test_the_command_without_a_retention_section_says_everything_is_kept(
    context: AppContext, settings: Settings, keyring: Keyring
) -> None:
    with transaction(context.sessions) as session:
        store_table(session, routing_table_toml(keyring, version="t-2"), loaded_by="t")
    case_ref = closed_case(context, utcnow() - timedelta(days=400))
    result = _intake(settings, "retention", "run")
    assert "every case is kept" in result.stdout
    assert not shredded(context, case_ref)


def test_routing_check_reports_a_bad_retention(tmp_path: Path, keyring: Keyring) -> None:
    path = tmp_path / "table.toml"
    path.write_text(routing_table_toml(keyring) + '\n[retention]\nclosed_days = {"*" = -5}\n')
    result = subprocess.run(
        [*INTAKE, "routing", "check", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert 'retention: closed_days: "*" must be a whole number of days' in result.stderr
