"""Benchmark: the signed Twilio webhook next to a bare FastAPI endpoint, same run.

Run: python bench/bench_sms.py [--runs 5] [--requests 1500] [--concurrency 16]

Starts `intake serve` (one worker, SQLite in a temporary folder, the demo
routing table, INTAKE_INSECURE_TEST_KDF so that the receipt KDF of each
confirmed report is cheap) and, beside it, a bare FastAPI app under uvicorn
whose endpoint answers a constant TwiML without reading the form. Both get
the same signed, form-encoded Twilio bodies from the same async client.
The webhook traffic is whole conversations: each simulated phone picks a
language, a category, anonymity and consent, sends five parts of an
account, DONE, and confirms (a sealed, routed case: one in eleven
messages). Every message checks the signature, runs one transaction
(MessageSid row, sealed state, sealed reply, outbox entry) and commits with
`synchronous=FULL`. Runs alternate between the two servers; the medians of
throughput and p99 latency are printed with their ratio. Nothing here
asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from twilio.request_validator import RequestValidator

PATH = "/channels/sms/twilio"
TOKEN = "bench-twilio-token"  # noqa: S105 - a throwaway token for this run
NUMBER = "+254700000001"  # a number of the demo routing table (sw, en)
SCRIPT = ["Habari", "2", "1", "1", "2", *(f"Part {i} of what happened." for i in range(5))]
SCRIPT += ["DONE", "1"]


@dataclass(frozen=True)
class Result:
    requests_per_s: float
    p50_ms: float
    p99_ms: float


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_up(url: str, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1.0).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"server at {url} did not start")


@contextmanager
def _server(command: list[str], env: dict[str, str], probe: str) -> Iterator[None]:
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    try:
        _wait_until_up(probe)
        yield
    finally:
        process.terminate()
        process.wait(timeout=30)


def _intake_command(port: int) -> list[str]:
    program = shutil.which("intake", path=str(Path(sys.executable).parent)) or "intake"
    return [program, "serve", "--port", str(port)]


def _bare_command(port: int) -> list[str]:
    return [sys.executable, __file__, "--bare-server", "--port", str(port)]


def _conversations(base: str, count: int) -> list[list[tuple[dict[str, str], str]]]:
    """Signed bodies, phone by phone, message by message (signed before timing)."""
    validator = RequestValidator(TOKEN)
    phones = []
    for _ in range(count):
        sender = f"+2547{secrets.randbelow(10**8):08d}"
        messages = []
        for body in SCRIPT:
            sid = "SM" + secrets.token_hex(16)
            params = {"MessageSid": sid, "SmsSid": sid, "From": sender, "To": NUMBER, "Body": body}
            params |= {"AccountSid": "AC" + "0" * 32, "NumMedia": "0", "ApiVersion": "2010-04-01"}
            messages.append((params, validator.compute_signature(base + PATH, params)))
        phones.append(messages)
    return phones


async def _load(
    port: int, phones: list[list[tuple[dict[str, str], str]]], concurrency: int
) -> Result:
    queue: asyncio.Queue[list[tuple[dict[str, str], str]]] = asyncio.Queue()
    for phone in phones:
        queue.put_nowait(phone)
    latencies: list[float] = []

    async def phone_worker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            for params, signature in queue.get_nowait():  # one phone's messages, in order
                started = time.perf_counter()
                response = await client.post(
                    PATH, data=params, headers={"X-Twilio-Signature": signature}
                )
                latencies.append(time.perf_counter() - started)
                if response.status_code != 200:
                    raise SystemExit(f"unexpected status {response.status_code}")

    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=httpx.Timeout(120.0)
    ) as client:
        started = time.perf_counter()
        await asyncio.gather(*(phone_worker(client) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return Result(
        requests_per_s=len(latencies) / elapsed,
        p50_ms=latencies[len(latencies) // 2] * 1000,
        p99_ms=latencies[int(len(latencies) * 0.99)] * 1000,
    )


def _intake_env(folder: Path, port: int) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("INTAKE_")}
    env |= {
        "INTAKE_DATA_DIR": str(folder),
        "INTAKE_TWILIO_AUTH_TOKEN": TOKEN,
        "INTAKE_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "INTAKE_INSECURE_TEST_KDF": "true",
        "INTAKE_REPORT_LIMIT": "0",
        "INTAKE_LOG_LEVEL": "warning",
    }
    return env


def _median(results: list[Result]) -> Result:
    return Result(
        statistics.median(r.requests_per_s for r in results),
        statistics.median(r.p50_ms for r in results),
        statistics.median(r.p99_ms for r in results),
    )


def bench(runs: int, requests: int, concurrency: int) -> None:
    phones_per_run = max(1, requests // len(SCRIPT))
    sms_port, bare_port = _free_port(), _free_port()
    sms_base = f"http://127.0.0.1:{sms_port}"
    results: dict[str, list[Result]] = {"bare FastAPI": [], "sms webhook": []}
    with (
        tempfile.TemporaryDirectory() as folder,
        _server(
            _intake_command(sms_port), _intake_env(Path(folder), sms_port), sms_base + "/healthz"
        ),
        _server(_bare_command(bare_port), dict(os.environ), f"http://127.0.0.1:{bare_port}/"),
    ):
        asyncio.run(_load(sms_port, _conversations(sms_base, 4), concurrency))  # warm up
        for _ in range(runs):
            bare = _conversations(f"http://127.0.0.1:{bare_port}", phones_per_run)
            results["bare FastAPI"].append(asyncio.run(_load(bare_port, bare, concurrency)))
            sms = _conversations(sms_base, phones_per_run)
            results["sms webhook"].append(asyncio.run(_load(sms_port, sms, concurrency)))
    _report(results, runs, phones_per_run * len(SCRIPT), concurrency)


def _report(results: dict[str, list[Result]], runs: int, requests: int, concurrency: int) -> None:
    print(f"{runs} runs x {requests} requests, {concurrency} concurrent; medians")
    print(f"{'endpoint':<14} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8}")
    medians = {name: _median(values) for name, values in results.items()}
    for name, value in medians.items():
        print(f"{name:<14} {value.requests_per_s:>9.0f} {value.p50_ms:>8.2f} {value.p99_ms:>8.2f}")
    bare, sms = medians["bare FastAPI"], medians["sms webhook"]
    print(
        f"sms/bare: throughput {sms.requests_per_s / bare.requests_per_s:.2f}, "
        f"p99 latency {sms.p99_ms / bare.p99_ms:.1f}x"
    )


def bare_server(port: int) -> None:
    import uvicorn
    from fastapi import FastAPI
    from fastapi.responses import Response

    app = FastAPI()
    twiml = '<?xml version="1.0" encoding="UTF-8"?><Response />'

    @app.get("/")
    def ready() -> dict[str, str]:
        return {"status": "ok"}

    @app.post(PATH)
    def webhook() -> Response:
        return Response(twiml, media_type="application/xml")

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--requests", type=int, default=1500, help="per run and endpoint")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--bare-server", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_server:
        bare_server(args.port)
        return
    bench(args.runs, args.requests, args.concurrency)


if __name__ == "__main__":
    main()
