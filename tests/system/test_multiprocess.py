"""Several processes on one PostgreSQL: two `intake serve`, two `intake worker`.

Reports go through both servers; both workers drain one outbox into a real
SMTP receiver on loopback, and every alert must arrive exactly once. The
global cap on failed follow-up look-ups lives in the database, so guesses
spread over both servers still get at most that many non-429 answers.
"""

from __future__ import annotations

import itertools
import json
import re
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from testkit.cases import report
from testkit.databases import selected_backends
from testkit.live import LiveEnv, LiveServer, StartServer, StartWorker
from testkit.receivers import SmtpReceiver

from intake.db import make_engine
from intake.models import OutboxEntry

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        "postgresql" not in selected_backends(),
        reason="INTAKE_TEST_DATABASES leaves out postgresql",
    ),
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
]

REPORTS = 40
GLOBAL_CAP = 20
GUESSES = 70
DRAIN_TIMEOUT_S = 60.0


def _mail_settings(smtp: SmtpReceiver) -> dict[str, str]:
    return {
        "INTAKE_SMTP_HOST": "127.0.0.1",
        "INTAKE_SMTP_PORT": str(smtp.port),
        "INTAKE_SMTP_FROM": "intake@example.org",
        "INTAKE_SMTP_SECURITY": "none",
    }


def _start_both(live_server: StartServer, **overrides: str) -> list[LiveServer]:
    """Both servers start at once, as a deployment would start them."""
    with ThreadPoolExecutor(2) as pool:
        futures = [pool.submit(live_server, f"server-{n}", **overrides) for n in (1, 2)]
        return [future.result() for future in futures]


def _post_all(
    servers: list[LiveServer], count: int, send: Callable[[httpx.Client], int]
) -> Counter[int]:
    """`count` requests spread over the servers from four threads; their statuses."""
    turns = itertools.cycle(servers)
    lock = threading.Lock()

    def one(_n: int) -> int:
        with lock:
            server = next(turns)
        with httpx.Client(base_url=server.base_url, timeout=30.0) as client:
            return send(client)

    with ThreadPoolExecutor(4) as pool:
        return Counter(pool.map(one, range(count)))


@pytest.mark.timeout(150)
def test_two_workers_send_every_alert_exactly_once(
    live_server: StartServer, live_worker: StartWorker, live_env: LiveEnv
) -> None:
    with SmtpReceiver() as smtp:
        mail = _mail_settings(smtp)
        servers = _start_both(live_server, **mail)
        workers = [live_worker(f"worker-{n}", **mail) for n in (1, 2)]

        def send_report(client: httpx.Client) -> int:
            return client.post("/api/v1/reports", json=report()).status_code

        assert _post_all(servers, REPORTS, send_report) == Counter({201: REPORTS})
        expected = _wait_until_drained(live_env)
        for worker in workers:
            assert worker.stop() == 0, worker.log_tail()  # a send under way finishes first
        received = Counter(
            (_case_ref_of(m.message["Subject"]), rcpt) for m in smtp.mails for rcpt in m.rcpt_to
        )
    assert len(expected) == REPORTS * 2  # ke-unicef and its cc ke-coordinator
    assert set(received) == set(expected)
    assert max(received.values()) == 1, "an alert was sent twice"


def _wait_until_drained(env: LiveEnv) -> set[tuple[str, str]]:
    """(case_ref, mailbox) of every alert, once all are marked sent."""
    engine = make_engine(env.database_url)
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    try:
        while True:
            with Session(engine) as session:
                rows = session.scalars(
                    select(OutboxEntry).where(OutboxEntry.kind == "notify")
                ).all()
            assert all(row.failed_at is None for row in rows), [r.last_error for r in rows]
            if rows and all(row.sent_at is not None for row in rows):
                return {_alert_of(row.payload) for row in rows}
            assert time.monotonic() < deadline, "the workers did not drain the outbox"
            time.sleep(0.5)
    finally:
        engine.dispose()


def _alert_of(payload: str) -> tuple[str, str]:
    values = json.loads(payload)
    return values["case_ref"], values["address"].removeprefix("mailto:")


def _case_ref_of(subject: str) -> str:
    found = re.search(r"C-[0-9A-Z]{12}", subject)
    assert found is not None, subject
    return found.group(0)


@pytest.mark.timeout(120)
def test_global_followup_cap_holds_across_servers(live_server: StartServer) -> None:
    servers = _start_both(
        live_server,
        INTAKE_FOLLOWUP_GLOBAL_LIMIT=f"{GLOBAL_CAP}/hour",
        INTAKE_FOLLOWUP_LIMIT="10000/hour",
    )
    window = _hour_now()

    def guess(client: httpx.Client) -> int:
        receipt = f"{secrets.randbelow(10**16):016d}"
        response = client.post("/api/v1/followup", json={"receipt": receipt})
        if response.status_code == 429:
            assert int(response.headers["retry-after"]) >= 1
        return response.status_code

    statuses = _post_all(servers, GUESSES, guess)
    crossed = _hour_now() != window  # a new window opened mid-test: two caps' worth
    assert set(statuses) <= {404, 429}, statuses
    assert 1 <= statuses[404] <= GLOBAL_CAP * (2 if crossed else 1), statuses
    assert statuses[429] >= GUESSES - GLOBAL_CAP * (2 if crossed else 1), statuses


def _hour_now() -> int:
    return int(datetime.now(UTC).timestamp()) // 3600
