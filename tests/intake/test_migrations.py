"""Migrations and models agree; every revision goes up and down; history is linear."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

import channels.registry  # noqa: F401 - registers the channels' own models
from intake.db import make_engine
from intake.migrations import alembic_config
from intake.models import Base


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
