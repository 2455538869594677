"""Slow, oversized, deeply nested and flooding clients leave other reporters served.

One real `intake serve` (SQLite, INTAKE_REPORT_LIMIT=10/minute) for the
module; each test speaks from its own loopback addresses so the per-source
limits of one test do not touch another. Correctness only: how much the
abuse slows an ordinary reporter is measured by bench/bench_abuse.py.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from testkit.abuse import (
    Flood,
    SlowBodies,
    client_from,
    guess_receipt,
    nested_in_field,
    nested_lists,
    send_report,
    unique_report,
)
from testkit.keys import Keyring
from testkit.live import LiveEnv, LiveServer

pytestmark = pytest.mark.slow

REPORT_LIMIT = 10  # a minute, per source
FOLLOWUP_LIMIT = 20  # failed look-ups an hour, per source (the default)
MAX_BODY = 512 * 1024  # the default INTAKE_MAX_BODY_BYTES


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, keyring: Keyring) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("abuse")
    env = LiveEnv.create(folder, f"sqlite:///{folder / 'intake.db'}", keyring)
    # Refusals to a repeat offender wait, as shipped, but 50 ms: the floods below
    # count hundreds of answers.
    live = LiveServer(
        env, INTAKE_REPORT_LIMIT=f"{REPORT_LIMIT}/minute", INTAKE_REFUSAL_DELAY_S="0.05"
    )
    live.start()
    yield live
    live.stop()


def _assert_serves_reports(server: LiveServer, source: int, count: int = 3) -> None:
    with client_from(server.base_url, source) as client:
        assert client.get("/healthz").status_code == 200
        for _ in range(count):
            response = client.post("/api/v1/reports", json=unique_report("ordinary"))
            assert response.status_code == 201, response.text


def _window(period_s: int) -> int:
    return int(datetime.now(UTC).timestamp()) // period_s


@pytest.mark.timeout(90)
def test_slow_bodies_do_not_stop_others_and_are_served(server: LiveServer) -> None:
    with SlowBodies(server.base_url, first_source=100, count=20, seconds=3.0) as slow:
        _assert_serves_reports(server, source=10, count=5)
    assert slow.answers == ["HTTP/1.1 201 Created"] * 20


def _form_token(client: httpx.Client) -> str:
    page = client.get("/report")
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found is not None, "the report form has no CSRF field"
    return found.group(1)


@pytest.mark.timeout(60)
def test_oversized_bodies_and_fields_get_4xx(server: LiveServer) -> None:
    big = b"x" * (MAX_BODY + 1)
    with client_from(server.base_url, 20) as client:
        json_headers = {"content-type": "application/json"}
        assert client.post("/api/v1/reports", content=big, headers=json_headers).status_code == 413
        chunked = client.post("/api/v1/reports", content=iter([big[:1000]] * 600))
        assert chunked.status_code == 413  # no Content-Length: counted while streamed
        long_narrative = unique_report() | {"narrative": "n" * 20_001}
        assert client.post("/api/v1/reports", json=long_narrative).status_code == 422
        long_field = unique_report() | {"location": "l" * 300_000}
        assert 400 <= client.post("/api/v1/reports", json=long_field).status_code < 500
        form = {"csrf_token": _form_token(client), **_form(narrative="n" * 25_000)}
        assert client.post("/report", data=form).status_code == 422
        form_headers = {"content-type": "application/x-www-form-urlencoded"}
        assert client.post("/report", content=big, headers=form_headers).status_code == 413
        many_fields = "&".join(f"f{n}=1" for n in range(20_000)).encode()
        fields = client.post("/report", content=many_fields, headers=form_headers)
        assert 400 <= fields.status_code < 500
        # uvicorn's httptools parser sets no header size limit (h11 would answer 431):
        # whatever the answer, it is no 5xx and the server carries on.
        huge_header = client.get("/healthz", headers={"x-filler": "h" * 100_000})
        assert huge_header.status_code < 500
    _assert_serves_reports(server, source=21)


def _form(**fields: str) -> dict[str, str]:
    values = {"reporter_type": "anonymous", "country": "KE", "category": "sexual_abuse"}
    return values | fields


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/reports", nested_lists(100_000)),
        ("/api/v1/followup", nested_lists(100_000)),
        ("/api/v1/reports", nested_in_field(50_000)),
    ],
    ids=["report-lists", "followup-lists", "report-field-objects"],
)
def test_deeply_nested_json_gets_4xx(server: LiveServer, path: str, body: bytes) -> None:
    with client_from(server.base_url, 30) as client:
        response = client.post(path, content=body, headers={"content-type": "application/json"})
    assert 400 <= response.status_code < 500
    assert response.headers["content-type"].startswith("application/problem+json")
    _assert_serves_reports(server, source=31, count=1)


@pytest.mark.timeout(90)
def test_flood_of_followup_guesses_leaves_followup_to_others(server: LiveServer) -> None:
    with client_from(server.base_url, 40) as reporter:
        filed = reporter.post("/api/v1/reports", json=unique_report()).json()
        window = _window(3600)
        with Flood(server.base_url, 41, guess_receipt, limit=200) as flood:
            for _ in range(3):
                answer = reporter.post("/api/v1/followup", json={"receipt": filed["receipt"]})
                assert answer.status_code == 200
                assert answer.json()["case_ref"] == filed["case_ref"]
            flood.wait(60)
    allowed = FOLLOWUP_LIMIT * (1 if _window(3600) == window else 2)
    assert set(flood.statuses) <= {404, 429}, flood.statuses
    assert 1 <= flood.statuses[404] <= allowed, flood.statuses
    assert flood.statuses[429] >= 200 - allowed, flood.statuses
    _assert_serves_reports(server, source=42)


@pytest.mark.timeout(90)
def test_flood_of_reports_from_one_source_leaves_others_served(server: LiveServer) -> None:
    window = _window(60)
    with Flood(server.base_url, 50, send_report, limit=60) as flood:
        _assert_serves_reports(server, source=51, count=5)
        flood.wait(60)
    allowed = REPORT_LIMIT * (1 if _window(60) == window else 2)
    statuses: Counter[int | str] = flood.statuses
    assert set(statuses) <= {201, 429}, statuses
    assert 1 <= statuses[201] <= allowed, statuses
    assert statuses[429] >= 60 - allowed, statuses


def test_serve_warns_loudly_about_the_insecure_test_kdf(server: LiveServer) -> None:
    log = server.log_path.read_text(encoding="utf-8", errors="replace")
    assert "INTAKE_INSECURE_TEST_KDF is set" in log
