"""Running `intake hotline import`: in this process (fast), or as a user does (a subprocess)."""

from __future__ import annotations

import csv
import io
import json
import logging
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from testkit.live import clean_environment, intake_command

from channels.hotline.transcripts import COLUMNS, OPTIONAL_COLUMNS
from intake.cli import main
from intake.settings import Settings

_LOGGERS = ("", "intake.reports", "uvicorn", "uvicorn.error", "uvicorn.access", "sqlalchemy",
            "sqlalchemy.engine", "alembic", "twilio")  # fmt: skip


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str
    stderr: str


@contextmanager
def kept_logging() -> Iterator[None]:
    """The command sets up production logging; give the test run its own back."""
    saved = {
        name: (list(lg.handlers), lg.propagate, lg.disabled, lg.level)
        for name, lg in ((name, logging.getLogger(name)) for name in _LOGGERS)
    }
    try:
        yield
    finally:
        for name, (handlers, propagate, disabled, level) in saved.items():
            logger = logging.getLogger(name)
            logger.handlers[:] = handlers
            logger.propagate, logger.disabled = propagate, disabled
            logger.setLevel(level)


def import_here(
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    *args: str,
) -> Result:
    """`intake hotline import ARGS` through the CLI entry point, in this process."""
    monkeypatch.setenv("INTAKE_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("INTAKE_DATABASE_URL", settings.resolved_database_url)
    capsys.readouterr()
    with kept_logging():
        code = main(["hotline", "import", *args])
    captured = capsys.readouterr()
    return Result(code, captured.out, captured.err)


def run_import(
    settings: Settings, *args: str, log_level: str = "info"
) -> subprocess.CompletedProcess[str]:
    env = clean_environment()
    env.update(
        INTAKE_DATA_DIR=str(settings.data_dir),
        INTAKE_DATABASE_URL=settings.resolved_database_url,
        INTAKE_LOG_LEVEL=log_level,
    )
    return subprocess.run(  # noqa: S603 - our own command
        [*intake_command(), "hotline", "import", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


def csv_text(rows: Sequence[dict[str, str]], columns: Sequence[str] = COLUMNS) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), restval="")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def jsonl_text(rows: Sequence[dict[str, Any] | str]) -> str:
    lines = [row if isinstance(row, str) else json.dumps(row, ensure_ascii=False) for row in rows]
    return "\n".join(lines) + "\n"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


ALL_COLUMNS = (*COLUMNS, *OPTIONAL_COLUMNS)
