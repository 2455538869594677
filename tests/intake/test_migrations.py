"""Migrations and models agree; every revision goes up and down; history is linear."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, select

import channels.registry  # noqa: F401 - registers the channels' own models
from crypto.server_secret import load_or_create
from intake.audit import trail as audit
from intake.db import make_engine, make_sessionmaker, transaction
from intake.migrations import alembic_config
from intake.models import AuditEvent, Base, Case, CaseEvent, SystemValue


def test_upgrade_head_matches_the_models(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def test_every_revision_goes_down_and_up_again(database_url: str) -> None:
    config = alembic_config(database_url)
    revisions = list(ScriptDirectory.from_config(config).walk_revisions())
    for _ in revisions:
        command.downgrade(config, "-1")
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            remaining = set(engine.dialect.get_table_names(connection)) - {"alembic_version"}
    finally:
        engine.dispose()
    assert remaining == set()
    command.upgrade(config, "head")
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            assert MigrationContext.configure(connection).get_current_revision() is not None
    finally:
        engine.dispose()


def test_history_is_linear() -> None:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1
    for revision in script.walk_revisions():
        assert not revision.is_merge_point
        assert revision.module.__file__ is not None


def _at(config_url: str, revision: str) -> Engine:
    command.downgrade(alembic_config(config_url), revision)
    return make_engine(config_url)


def test_entries_written_before_keying_still_verify(database_url: str, tmp_path: Path) -> None:
    """0020: old SHA-256 entries become version 1, the marker names the last of them."""
    engine = _at(database_url, "0002")
    events = sa.table(
        "audit_events",
        *(sa.column(name) for name in ("actor", "action", "case_ref", "detail")),
        sa.column("at", sa.DateTime()),
        sa.column("prev_hash"),
        sa.column("hash"),
    )
    prev, moment = audit.GENESIS, datetime(2026, 11, 30, 8, 15, 42, 123456, tzinfo=UTC)
    try:
        with engine.begin() as connection:
            for number in (1, 2):
                digest = audit.entry_hash(
                    prev_hash=prev,
                    at=moment,
                    actor="cli",
                    action=f"old.{number}",
                    case_ref=None,
                    detail="{}",
                    secret=None,
                )
                connection.execute(
                    events.insert().values(
                        actor="cli",
                        action=f"old.{number}",
                        case_ref=None,
                        detail="{}",
                        at=moment.replace(tzinfo=None),
                        prev_hash=prev,
                        hash=digest,
                    )
                )
                prev = digest
            connection.execute(
                sa.text("UPDATE system_values SET value = :v WHERE name = 'audit_head'"),
                {"v": prev.encode()},
            )
    finally:
        engine.dispose()
    command.upgrade(alembic_config(database_url), "head")
    engine = make_engine(database_url)
    secret = load_or_create(tmp_path / "secret.key")
    try:
        with make_sessionmaker(engine, secret=secret)() as session:
            versions = session.scalars(select(AuditEvent.hash_version)).all()
            assert versions == [audit.UNKEYED, audit.UNKEYED]
            last = max(session.scalars(select(AuditEvent.id)).all())
            marker = session.get(SystemValue, audit.LEGACY_UNTIL)
            assert marker is not None
            assert marker.value == str(last).encode()
            assert audit.verify(session) is None
        with transaction(make_sessionmaker(engine, secret=secret)) as session:
            audit.append(session, actor="tests", action="new.keyed")
        with make_sessionmaker(engine, secret=secret)() as session:
            assert audit.verify(session) is None
    finally:
        engine.dispose()


def test_existing_cases_are_cut_to_the_minute(database_url: str) -> None:
    """0022: received_at, due_at and the routed event of stored cases lose their seconds."""
    engine = _at(database_url, "0021")
    received = datetime(2026, 11, 30, 8, 15, 42, 123456, tzinfo=UTC)
    try:
        with engine.begin() as connection:
            connection.execute(
                Case.__table__.insert().values(
                    id=1,
                    case_ref="C-0123456789AB",
                    channel="api",
                    reporter_type="anonymous",
                    language="en",
                    country="KE",
                    category="other",
                    affiliation="unknown",
                    consent_contact_me=False,
                    consent_share_with_investigators=False,
                    consent_refer_to_services=False,
                    received_at=received,
                    updated_at=received,
                    status="routed",
                    due_at=received + timedelta(hours=24),
                    rule_id="r",
                    table_version="v",
                    envelope="{}",
                    envelope_sha256="0" * 64,
                    receipt_lookup=b"\1" * 32,
                    receipt_public_key=b"\2" * 32,
                )
            )
            connection.execute(
                CaseEvent.__table__.insert().values(case_id=1, type="routed", at=received)
            )
    finally:
        engine.dispose()
    command.upgrade(alembic_config(database_url), "head")
    engine = make_engine(database_url)
    minute = received.replace(second=0, microsecond=0)
    try:
        with make_sessionmaker(engine)() as session:
            case = session.scalars(select(Case)).one()
            assert (case.received_at, case.due_at) == (minute, minute + timedelta(hours=24))
            assert session.scalars(select(CaseEvent.at)).one() == minute
    finally:
        engine.dispose()
