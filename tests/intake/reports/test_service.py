"""The reports service (`submit`): the one intake path every channel takes."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session
from testkit.cases import case_by_ref, open_case, report
from testkit.keys import Keyring

from channels.registry import installed
from crypto.kdf import KdfCost
from intake.app import build_context
from intake.audit import trail as audit
from intake.context import AppContext
from intake.errors import ServiceUnavailable, TooManyRequests
from intake.models import AuditEvent, Case, CaseEvent, OutboxEntry, RoutingTableVersion
from intake.reports import service
from intake.reports.schemas import ReportIn
from intake.reports.submission import Accepted, Submission
from intake.settings import Settings
from routing.engine import Facts

CANARY = "CANARY-narrative-7f3a: he came to the tent at night"


@pytest.fixture
def context(settings: Settings, loaded_routing: str, kdf_cost: KdfCost) -> Iterator[AppContext]:
    built = build_context(settings, channels=installed(), receipt_cost=kdf_cost)
    yield built
    built.close()


def _submission(**overrides: Any) -> Submission:
    extra = overrides.pop("submission", {})
    body = report(narrative=CANARY, **overrides)
    return Submission(report=ReportIn.model_validate(body), channel="api", language="en", **extra)


def _count(context: AppContext, model: type) -> int:
    with context.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_a_report_is_stored_sealed_routed_and_audited(
    context: AppContext, keyring: Keyring
) -> None:
    accepted = submit_one(context)
    with context.sessions() as session:
        case = case_by_ref(session, accepted.case_ref)
        events = session.scalars(select(CaseEvent.type).where(CaseEvent.case_id == case.id)).all()
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.case_ref == case.case_ref)
        ).all()
        recipient = case.recipient_ids[0]
    assert (case.status, case.channel, case.country) == ("routed", "api", "KE")
    assert case.due_at == accepted.due_at
    assert list(events) == ["routed"]
    assert list(actions) == ["case.created"]
    assert CANARY not in case.envelope
    assert open_case(case, keyring.pairs[recipient])["narrative"] == CANARY


def submit_one(context: AppContext, **overrides: Any) -> Accepted:
    return service.submit(context, _submission(**overrides))


def test_routing_is_decided_on_the_clear_fields_only(
    context: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[Facts] = []
    real = service.decide

    def spy(table: Any, facts: Facts) -> Any:
        seen.append(facts)
        return real(table, facts)

    monkeypatch.setattr(service, "decide", spy)
    submit_one(context, country="SO", category="sexual_abuse", victim_is_child=True)
    assert seen == [Facts(country="SO", category="sexual_abuse", affiliation="UNICEF", child=True)]
    assert CANARY not in repr(seen)


def test_one_report_costs_one_commit(context: AppContext) -> None:
    commits: list[int] = []
    event.listen(context.engine, "commit", lambda _connection: commits.append(1))
    submit_one(context)
    assert len(commits) == 1


def test_a_report_over_the_limit_is_refused_and_nothing_is_stored(
    settings: Settings, loaded_routing: str, kdf_cost: KdfCost
) -> None:
    limited = build_context(
        settings.model_copy(update={"report_limit": "2/hour"}),
        channels=installed(),
        receipt_cost=kdf_cost,
    )
    try:
        source = {"submission": {"source": b"s" * 32}}
        submit_one(limited, **source)
        submit_one(limited, **source)
        with pytest.raises(TooManyRequests) as refused:
            submit_one(limited, **source)
        assert refused.value.retry_after_s >= 1
        assert _count(limited, Case) == 2
        submit_one(limited)  # no source (staff): not limited per source
        assert _count(limited, Case) == 3
    finally:
        limited.close()


def test_without_a_routing_table_the_report_gets_503_and_nothing_is_stored(
    settings: Settings, kdf_cost: KdfCost
) -> None:
    bare = build_context(settings, channels=installed(), receipt_cost=kdf_cost)
    try:
        assert _count(bare, RoutingTableVersion) == 0
        with pytest.raises(ServiceUnavailable) as refused:
            submit_one(bare)
        assert refused.value.status == 503
        assert _count(bare, Case) == 0
    finally:
        bare.close()


def test_when_sealing_fails_the_report_gets_503_and_nothing_is_stored(
    context: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    from crypto.errors import CryptoError

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise CryptoError("public key is not a valid X25519 key")

    monkeypatch.setattr(service, "seal", broken)
    with pytest.raises(ServiceUnavailable) as refused:
        submit_one(context)
    assert CANARY not in str(refused.value)
    assert (_count(context, Case), _count(context, AuditEvent)) == (0, 0)


def test_a_failing_channel_hook_rolls_the_whole_case_back(context: AppContext) -> None:
    class Refused(Exception):
        pass

    def hook(_session: Session, _accepted: Accepted) -> None:
        raise Refused

    with pytest.raises(Refused):
        submit_one(context, submission={"on_stored": hook})
    counts = [_count(context, model) for model in (Case, CaseEvent, AuditEvent, OutboxEntry)]
    assert counts == [0, 0, 0, 0]


def test_the_channel_hook_sees_the_receipt_inside_the_case_transaction(
    context: AppContext,
) -> None:
    seen: list[tuple[str, int]] = []

    def hook(session: Session, accepted: Accepted) -> None:
        stored = session.get(Case, accepted.case_id)
        assert stored is not None
        seen.append((accepted.receipt, stored.id))

    accepted = submit_one(context, submission={"on_stored": hook})
    assert seen == [(accepted.receipt, accepted.case_id)]


def test_the_audit_chain_stays_intact(context: AppContext) -> None:
    for _ in range(3):
        submit_one(context)
    with context.sessions() as session:
        assert audit.verify(session) is None


def test_a_case_is_received_at_the_whole_minute(
    context: AppContext, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="intake.reports")
    accepted = submit_one(context)
    with context.sessions() as session:
        case = case_by_ref(session, accepted.case_ref)
        routed = session.scalars(select(CaseEvent.at).where(CaseEvent.case_id == case.id)).one()
        added = [recipient.added_at for recipient in case.recipients]
    for moment in (case.received_at, case.updated_at, case.due_at, routed, *added):
        assert (moment.second, moment.microsecond) == (0, 0)
    assert accepted.due_at == case.due_at
    rule_hours = (case.due_at - case.received_at).total_seconds() / 3600
    assert rule_hours == int(rule_hours) > 0
    with context.sessions() as session:
        alerts = session.scalars(select(OutboxEntry)).all()
    assert alerts  # the recipients' content-free alerts, which name the case
    for alert in alerts:
        assert (alert.created_at.second, alert.created_at.microsecond) == (0, 0)
        assert (alert.available_at.second, alert.available_at.microsecond) == (0, 0)
    (record,) = [r for r in caplog.records if r.getMessage() == "report accepted"]
    assert not hasattr(record, "case_ref")
    assert accepted.case_ref not in caplog.text
