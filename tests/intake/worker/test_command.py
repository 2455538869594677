"""`intake worker` as an operator runs it: a process, its exit code, its signals."""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from testkit.outbox import entry, notify_payload, put
from testkit.receivers import CERT_FILE, HttpsReceiver

from intake.context import AppContext
from intake.settings import Settings

INTAKE = [sys.executable, "-m", "intake.cli"]


def environment(settings: Settings, **extra: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("INTAKE_")}
    clean.update(
        {
            "INTAKE_DATA_DIR": str(settings.data_dir),
            "INTAKE_DATABASE_URL": settings.resolved_database_url,
            **extra,
        }
    )
    return clean


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_once_exits_0_when_a_delivery_fails_and_schedules_a_retry(
    context: AppContext, settings: Settings
) -> None:
    address = f"https://127.0.0.1:{closed_port()}/hook"
    entry_id = put(context, "notify", notify_payload(address))
    result = subprocess.run(
        [*INTAKE, "worker", "--once"],
        env=environment(settings),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert address not in result.stderr
    row = entry(context, entry_id)
    assert (row.attempts, row.last_error, row.sent_at, row.failed_at) == (
        1,
        "webhook_unreachable",
        None,
        None,
    )


def test_a_database_that_is_not_migrated_is_a_one_line_error(tmp_path: Path) -> None:
    result = subprocess.run(
        [*INTAKE, "worker", "--once"],
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("INTAKE_")},
            "INTAKE_DATA_DIR": str(tmp_path),
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "intake: cannot open the database (OperationalError); run `intake db upgrade`"
    ]


def _lines(stream: object, into: queue.Queue[str]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        into.put(line)


def _wait_for(lines: queue.Queue[str], text: str, seen: list[str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            continue
        seen.append(line)
        if text in line:
            return
    pytest.fail(f"{text!r} never logged; got {seen}")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_running_worker_delivers_then_stops_gracefully_on_a_signal(
    context: AppContext, settings: Settings, signum: signal.Signals
) -> None:
    with HttpsReceiver() as https, _start_worker(settings) as process:
        lines: queue.Queue[str] = queue.Queue()
        seen: list[str] = []
        reader = threading.Thread(target=_lines, args=(process.stderr, lines), daemon=True)
        reader.start()
        try:
            _wait_for(lines, "worker started", seen)
            entry_id = put(context, "notify", notify_payload(https.url()))
            _wait_for(lines, '"msg": "delivered"', seen)
            process.send_signal(signum)
            assert process.wait(timeout=30) == 0
        finally:
            if process.poll() is None:
                process.kill()
        reader.join(10)
        _wait_for(lines, "worker stopped", seen)
        assert len(https.posts) == 1
    assert entry(context, entry_id).sent_at is not None


def _start_worker(settings: Settings) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*INTAKE, "worker"],
        env=environment(settings, SSL_CERT_FILE=str(CERT_FILE)),
        stderr=subprocess.PIPE,
        text=True,
    )
