"""Deadlines: overdue cases are marked once, audited, and the coordinator alerted once."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from testkit.cases import report
from testkit.clock import Clock
from testkit.outbox import ContextFactory, entries
from testkit.receivers import SmtpReceiver

from channels.sms.models import ProcessedMessage, SmsConversation
from intake import ratelimit
from intake.audit import trail as audit
from intake.context import AppContext
from intake.db import transaction
from intake.models import (
    AuditEvent,
    Case,
    OutboxEntry,
    RateCounter,
    utcnow,
)
from intake.reports.schemas import ReportIn
from intake.reports.service import submit
from intake.reports.submission import Submission
from intake.settings import RateLimit, Settings
from intake.worker.overdue import OVERDUE_BATCH
from intake.worker.run import Worker


def new_case(context: AppContext, **overrides: Any) -> str:
    body = ReportIn.model_validate(report(**overrides))
    return submit(context, Submission(report=body, channel="web", language="en")).case_ref


def overdue_alerts(context: AppContext) -> list[dict[str, Any]]:
    alerts = [json.loads(row.payload) for row in entries(context, "notify")]
    return [alert for alert in alerts if alert["event"] == "overdue"]


def case_row(context: AppContext, case_ref: str) -> Case:
    with context.sessions() as session:
        return session.scalars(select(Case).where(Case.case_ref == case_ref)).one()


def audit_actions(context: AppContext) -> list[tuple[str, str, str | None]]:
    with context.sessions() as session:
        rows = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        return [(row.actor, row.action, row.case_ref) for row in rows]


def test_an_overdue_case_is_marked_audited_and_alerted_once(context: AppContext) -> None:
    case_ref = new_case(context)  # KE, UNICEF: rule ke-sea-unicef, due in 24 hours
    clock = Clock(case_row(context, case_ref).due_at + timedelta(seconds=1))
    worker = Worker(context, clock=clock)
    assert worker.run_once().overdue == 1
    assert case_row(context, case_ref).overdue_marked_at == clock.now
    assert overdue_alerts(context) == [
        {
            "case_ref": case_ref,
            "focal_point": "ke-coordinator",  # KE's own catch-all rule names the coordinator
            "address": "mailto:ke-coordinator@example.org",
            "event": "overdue",
            "due_at": case_row(context, case_ref).due_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
    ]
    assert audit_actions(context)[-1] == ("worker", "case.overdue", case_ref)
    clock.advance(timedelta(days=3))
    assert worker.run_once().overdue == 0
    assert len(overdue_alerts(context)) == 1
    with context.sessions() as session:
        assert audit.verify(session) is None


def test_cases_not_due_or_acknowledged_are_left_alone(context: AppContext) -> None:
    waiting = new_case(context)
    acknowledged = new_case(context)
    with transaction(context.sessions) as session:
        session.execute(
            update(Case).where(Case.case_ref == acknowledged).values(status="acknowledged")
        )
    due_at = case_row(context, waiting).due_at
    assert Worker(context, clock=Clock(due_at - timedelta(seconds=1))).run_once().overdue == 0
    assert Worker(context, clock=Clock(due_at + timedelta(hours=1))).run_once().overdue == 1
    assert case_row(context, waiting).overdue_marked_at is not None
    assert case_row(context, acknowledged).overdue_marked_at is None


def test_a_country_without_its_own_catch_all_alerts_the_global_desk(
    context: AppContext,
) -> None:
    case_ref = new_case(context, country="UG", affiliation="unknown")
    later = case_row(context, case_ref).due_at + timedelta(minutes=1)
    Worker(context, clock=Clock(later)).run_once()
    assert [(a["focal_point"], a["address"]) for a in overdue_alerts(context)] == [
        ("global-psea", "mailto:global-psea@example.org")
    ]


def test_the_overdue_alert_is_mailed_in_the_same_pass(
    settings: Settings, make_context: ContextFactory
) -> None:
    with SmtpReceiver() as smtp:
        changed = settings.model_copy(
            update={
                "smtp_host": "127.0.0.1",
                "smtp_port": smtp.port,
                "smtp_from": "intake@psea.example.org",
                "smtp_security": "none",
            }
        )
        context = make_context(changed)
        case_ref = new_case(context)
        later = case_row(context, case_ref).due_at + timedelta(hours=1)
        report_ = Worker(context, clock=Clock(later)).run_once()
        assert (report_.overdue, report_.sent) == (1, 3)  # new case x2 recipients, overdue x1
        subjects = sorted(str(mail.message["Subject"]) for mail in smtp.mails)
        assert subjects == [
            f"[PSEA intake] Case {case_ref} is overdue",
            f"[PSEA intake] New case {case_ref}",
            f"[PSEA intake] New case {case_ref}",
        ]
        narrative = report()["narrative"]
        assert all(narrative not in mail.message.as_string() for mail in smtp.mails)


def test_more_overdue_cases_than_one_batch_are_all_marked_in_one_pass(
    context: AppContext,
) -> None:
    refs = [new_case(context) for _ in range(3)]
    with transaction(context.sessions) as session:
        rows = session.scalars(select(Case).where(Case.case_ref.in_(refs))).all()
        template = rows[0]
        for index in range(OVERDUE_BATCH):
            session.add(_copy(template, index))
    later = utcnow() + timedelta(days=10)
    assert Worker(context, clock=Clock(later)).run_once().overdue == OVERDUE_BATCH + 3


def _copy(case: Case, index: int) -> Case:
    return Case(
        case_ref=f"C-COPY{index:08d}",
        channel=case.channel,
        reporter_type=case.reporter_type,
        language=case.language,
        country="SO",
        category=case.category,
        affiliation=case.affiliation,
        due_at=case.due_at,
        rule_id=case.rule_id,
        table_version=case.table_version,
        envelope=case.envelope,
        envelope_sha256=case.envelope_sha256,
        receipt_lookup=index.to_bytes(32, "big"),
        receipt_public_key=case.receipt_public_key,
    )


def test_two_workers_mark_and_alert_each_case_once(
    context: AppContext, settings: Settings, make_context: ContextFactory
) -> None:
    refs = [new_case(context) for _ in range(12)]
    later = utcnow() + timedelta(days=10)
    workers = [Worker(make_context(settings), clock=Clock(later)) for _ in range(2)]
    barrier = threading.Barrier(2)
    totals: list[int] = []

    def run(worker: Worker) -> None:
        barrier.wait()
        totals.append(worker.run_once().overdue)

    threads = [threading.Thread(target=run, args=(worker,)) for worker in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sum(totals) == 12
    alerted = sorted(alert["case_ref"] for alert in overdue_alerts(context))
    assert alerted == sorted(refs)
    overdue_audits = [a for a in audit_actions(context) if a[1] == "case.overdue"]
    assert sorted(a[2] or "" for a in overdue_audits) == sorted(refs)
    with context.sessions() as session:
        assert audit.verify(session) is None


def test_expired_rate_counters_and_sms_state_are_purged(context: AppContext) -> None:
    limit = RateLimit(5, 60)
    now = utcnow()
    past, future = now - timedelta(minutes=5), now + timedelta(hours=1)
    with transaction(context.sessions) as session:
        ratelimit.record(session, "report", b"\1" * 32, limit, past)
        ratelimit.record(session, "report", b"\2" * 32, limit, now)
        for key, expires_at in ((b"\3" * 32, past), (b"\4" * 32, future)):
            session.add(SmsConversation(sender_hash=key, step="menu", expires_at=expires_at))
        for key, expires_at in ((b"\5" * 32, past), (b"\6" * 32, future)):
            session.add(
                ProcessedMessage(
                    sid_hash=key, received_at=now, reply_sealed=b"x", reply_expires_at=expires_at
                )
            )
    assert Worker(context, clock=Clock(now)).run_once().purged == 3
    with context.sessions() as session:
        assert session.scalars(select(RateCounter.source)).all() == [b"\2" * 32]
        assert session.scalars(select(SmsConversation.sender_hash)).all() == [b"\4" * 32]
        replies = session.execute(
            select(ProcessedMessage.sid_hash, ProcessedMessage.reply_sealed).order_by(
                ProcessedMessage.sid_hash
            )
        ).all()
        assert [tuple(row) for row in replies] == [(b"\5" * 32, None), (b"\6" * 32, b"x")]


def test_sent_outbox_entries_are_purged_after_seven_days(context: AppContext) -> None:
    now = utcnow()
    with transaction(context.sessions) as session:
        rows = {
            "old sent": OutboxEntry(kind="notify", sent_at=now - timedelta(days=7, minutes=1)),
            "new sent": OutboxEntry(kind="notify", sent_at=now - timedelta(days=6)),
            "old failed": OutboxEntry(kind="notify", failed_at=now - timedelta(days=30)),
            "pending": OutboxEntry(kind="notify", available_at=now + timedelta(days=1)),
        }
        session.add_all(rows.values())
        session.flush()
        ids = {name: row.id for name, row in rows.items()}
    Worker(context, clock=Clock(now), handlers={}).run_once()
    with context.sessions() as session:
        left = set(session.scalars(select(OutboxEntry.id)).all())
    assert ids["old sent"] not in left
    assert {ids["new sent"], ids["old failed"], ids["pending"]} <= left
