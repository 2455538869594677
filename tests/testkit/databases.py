"""One migrated template per backend per test session; a fresh copy per test.

SQLite: the template file is copied. PostgreSQL: `CREATE DATABASE ... TEMPLATE`
through pytest-postgresql's janitor, against the cluster `scripts/test` starts
(its URL in INTAKE_TEST_POSTGRES_URL).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pytest_postgresql.janitor import DatabaseJanitor
from sqlalchemy.engine import make_url

from intake.db import make_engine
from intake.migrations import upgrade

POSTGRES_ENV = "INTAKE_TEST_POSTGRES_URL"
BACKENDS_ENV = "INTAKE_TEST_DATABASES"


def selected_backends() -> list[str]:
    chosen = os.environ.get(BACKENDS_ENV, "sqlite,postgresql")
    return [name.strip() for name in chosen.split(",") if name.strip()]


def postgres_server_url() -> str:
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        raise RuntimeError(
            f"{POSTGRES_ENV} is not set: run the suite with scripts/test (it starts PostgreSQL), "
            f"or set {BACKENDS_ENV}=sqlite"
        )
    return url


def migrate(url: str) -> None:
    engine = make_engine(url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()


class SqliteTemplates:
    def __init__(self, folder: Path) -> None:
        self.template = folder / "template.db"
        migrate(f"sqlite:///{self.template}")

    @contextmanager
    def fresh(self, folder: Path) -> Iterator[str]:
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / "intake.db"
        shutil.copyfile(self.template, target)
        yield f"sqlite:///{target}"


class PostgresTemplates:
    def __init__(self) -> None:
        server = make_url(postgres_server_url())
        self.server = server
        self.template_name = f"intake_tpl_{uuid.uuid4().hex[:12]}"
        self._template = self._janitor(self.template_name, as_template=True)
        self._template.init()
        migrate(server.set(database=self.template_name).render_as_string(hide_password=False))

    def _janitor(self, name: str, **kwargs: object) -> DatabaseJanitor:
        return DatabaseJanitor(
            user=self.server.username or "postgres",
            host=self.server.host or "127.0.0.1",
            port=self.server.port or 5432,
            password=self.server.password,
            dbname=name,
            **kwargs,  # type: ignore[arg-type]
        )

    @contextmanager
    def fresh(self, _folder: Path) -> Iterator[str]:
        name = f"intake_t_{uuid.uuid4().hex[:12]}"
        janitor = self._janitor(name, template_dbname=self.template_name)
        janitor.init()
        try:
            yield self.server.set(database=name).render_as_string(hide_password=False)
        finally:
            janitor.drop()

    def close(self) -> None:
        self._template.drop()
