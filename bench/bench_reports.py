"""Load benchmark: POST /api/v1/reports next to a bare and an "essential work" endpoint.

Run: python bench/bench_reports.py [--db sqlite postgresql] [--workers 1 4]
     [--connections 32] [--duration 5] [--runs 3]

Every target is a real uvicorn server on loopback, loaded in the same run by
the same generator (an asyncio httpx client, N concurrent connections), runs
interleaved so drift hits every target alike; medians of --runs are printed.
Targets:
  bare        FastAPI endpoint that only parses the JSON body
  essential   validate (ReportIn) + receipt Argon2id + seal to 3 keys + one INSERT, commit
  real        `intake serve`: the whole pipeline (routing, seal, case + recipients + event
              + audit chain + outbox in one transaction), middleware, safe logging
"essential" and "real" run twice: at the receipt KDF cost of SPEC section 8
("spec") and at libsodium's minimum ("test"; for the real service through
INTAKE_INSECURE_TEST_KDF=true, which `intake serve` announces loudly).
The bare and essential apps run under the uvicorn options `intake serve` uses.
PostgreSQL runs on a throwaway cluster from scripts/postgres (stopped at the end).
Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import AsyncExitStack, ExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

import httpx
from fastapi import Body, FastAPI
from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

from crypto.envelope import case_aad, seal
from crypto.kdf import RECEIPT_COST, TEST_COST
from crypto.keys import generate_keypair
from crypto.receipt import derive_receipt_keys, format_receipt, new_receipt
from intake.commands.db import apply_migrations
from intake.context import KdfPool
from intake.db import make_engine
from intake.http.server import PROTOCOL
from intake.models import Case, utcnow
from intake.reports.schemas import ReportIn
from intake.reports.service import new_case_ref
from intake.settings import Settings

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
REPORT: dict[str, Any] = {
    "reporter_type": "third_party",
    "language": "sw",
    "country": "KE",
    "category": "sexual_exploitation",
    "affiliation": "unknown",
    "victim_is_child": True,
    "consent": {"contact_me": True, "share_with_investigators": True},
    "narrative": "A man who hands out food asked my neighbour for sex before rations. " * 12,
    "incident_date": "2026-10-30",
    "location": "Kakuma camp, block 4, near the water point",
    "victim": {"name": "Neighbour's daughter", "age": 15, "sex": "female"},
}
PAYLOAD = json.dumps(REPORT).encode("utf-8")


# --- the apps the servers run (uvicorn factories, imported by each worker) ---


def bare_app() -> FastAPI:
    app = FastAPI()

    @app.post("/bare", status_code=201)
    async def bare(body: Annotated[dict[str, Any], Body()]) -> dict[str, str]:
        return {"status": "ok"}

    app.add_api_route("/healthz", _healthz)
    return app


def essential_app() -> FastAPI:
    """Only what one report cannot do without; config from BENCH_* variables."""
    engine = make_engine(os.environ["BENCH_DATABASE_URL"])
    cost = TEST_COST if os.environ["BENCH_KDF"] == "test" else RECEIPT_COST
    public_keys = [generate_keypair().public_key for _ in range(3)]
    salt, server_secret = secrets.token_bytes(16), secrets.token_bytes(32)
    kdf = KdfPool(Settings.model_fields["kdf_concurrency"].default)
    app = FastAPI()

    @app.post("/essential", status_code=201)
    def essential(report: Annotated[ReportIn, Body()]) -> dict[str, str]:
        receipt = new_receipt()
        keys = kdf.run(
            lambda: derive_receipt_keys(receipt, salt=salt, server_secret=server_secret, cost=cost)
        )
        case_ref = new_case_ref()
        envelope = json.dumps(
            seal(report.sealed_content(), public_keys=public_keys, aad=case_aad(case_ref)),
            separators=(",", ":"),
        )
        now = utcnow()
        row = {
            "case_ref": case_ref, "channel": "api", "reporter_type": report.reporter_type,
            "language": "sw", "country": report.country, "category": report.category,
            "affiliation": report.affiliation, "victim_is_child": report.victim_is_child,
            "received_at": now, "updated_at": now, "status": "routed", "due_at": now,
            "rule_id": "r", "table_version": "v", "envelope": envelope, "envelope_sha256": "0",
            "receipt_lookup": keys.lookup, "receipt_public_key": keys.keypair.public_key,
        }  # fmt: skip
        with engine.begin() as connection:
            connection.execute(insert(Case).values(row))
        return {"case_ref": case_ref, "receipt": format_receipt(receipt), "status": "routed"}

    app.add_api_route("/healthz", _healthz)
    return app


async def _healthz() -> dict[str, str]:
    return {"status": "ok"}


# --- servers ---------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    name: str
    path: str
    factory: str | None  # None: `intake serve` itself
    kdf: str  # "spec" | "test" | "-"


TARGETS = (
    Target("bare", "/bare", "bench_reports:bare_app", "-"),
    Target("essential", "/essential", "bench_reports:essential_app", "spec"),
    Target("real", "/api/v1/reports", None, "spec"),
    Target("essential", "/essential", "bench_reports:essential_app", "test"),
    Target("real", "/api/v1/reports", None, "test"),
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _uvicorn_command(factory: str, port: int, workers: int) -> list[str]:
    """The uvicorn options `intake serve` uses (the same protocol: h11 with the slow-client
    deadline; the same connection cap), for a factory of this module: the servers differ
    only in the app they run.
    """
    options = (
        f"factory=True, host='127.0.0.1', port={port}, workers={workers}, access_log=False, "
        "log_config=None, server_header=False, proxy_headers=False, "
        f"http={PROTOCOL!r}, limit_concurrency={Settings().max_connections}, "
        "timeout_worker_healthcheck=60"
    )
    return [sys.executable, "-c", f"import uvicorn; uvicorn.run({factory!r}, {options})"]


@contextmanager
def serve(
    target: Target, workers: int, database_url: str, folder: Path, log_name: str = "server.log"
) -> Iterator[str]:
    """Start one target's server; yields the URL to load.

    Servers started one after another in the same `folder` share its data
    (INTAKE_DATA_DIR: the server secret, the demo keys), as two `intake serve`
    of one installation would; each writes its own `log_name`.
    """
    folder.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(BENCH_DIR), str(ROOT)]),
        "INTAKE_DATA_DIR": str(folder),
        "INTAKE_DATABASE_URL": database_url,
        "INTAKE_REPORT_LIMIT": "0",  # all load comes from one address
        "INTAKE_REPORT_GLOBAL_LIMIT": "1000000/minute",  # checked (as in use), never reached
        "INTAKE_INSECURE_TEST_KDF": "true" if target.kdf == "test" else "false",
        "BENCH_DATABASE_URL": database_url,
        "BENCH_KDF": target.kdf,
    }
    if target.factory is None:
        intake = Path(sys.executable).with_name("intake")
        command = [str(intake), "serve", "--port", str(port), "--workers", str(workers)]
    else:
        if target.name == "essential":
            apply_migrations(database_url)
        command = _uvicorn_command(target.factory, port, workers)
    log = (folder / log_name).open("wb")
    process = subprocess.Popen(
        command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        _wait_ready(port, process, folder / log_name)
        yield f"http://127.0.0.1:{port}{target.path}"
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


def _wait_ready(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server did not start; its log ends:\n{log.read_text()[-3000:]}")


# --- databases -------------------------------------------------------------


class Databases:
    """SQLite files in the run's folder, or fresh databases on a throwaway cluster."""

    def __init__(self, kind: str, folder: Path, stack: ExitStack) -> None:
        self.kind, self.folder = kind, folder
        self.server_url: str | None = None
        if kind == "postgresql":
            script, cluster = ROOT / "scripts" / "postgres", folder / "pg"
            started = subprocess.run(
                [str(script), "start", str(cluster), str(_free_port())],
                check=True, capture_output=True, text=True,
            )  # fmt: skip
            stack.callback(subprocess.run, [str(script), "stop", str(cluster)], check=False)
            self.server_url = started.stdout.strip().splitlines()[-1]

    def new(self, name: str) -> str:
        if self.server_url is None:
            return f"sqlite:///{self.folder / name / 'intake.db'}"
        admin = create_engine(self.server_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        return make_url(self.server_url).set(database=name).render_as_string(hide_password=False)


# --- load ------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    rate: float  # successful reports per second
    p50_ms: float
    p99_ms: float
    errors: int


Send = Callable[[], Awaitable[int]]  # posts the report once on its connection; the status
Opener = Callable[[], Awaitable[Send]]


@asynccontextmanager
async def _raw_client(url: str) -> AsyncIterator[Opener]:
    """Keep-alive HTTP/1.1 over asyncio streams: the client costs almost nothing."""
    parts = urlsplit(url)
    request = (
        f"POST {parts.path} HTTP/1.1\r\nhost: {parts.netloc}\r\n"
        f"content-type: application/json\r\ncontent-length: {len(PAYLOAD)}\r\n\r\n"
    ).encode("ascii") + PAYLOAD
    writers: list[asyncio.StreamWriter] = []

    async def open_connection() -> Send:
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        writers.append(writer)

        async def send() -> int:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            fields = dict(line.split(b":", 1) for line in head.split(b"\r\n")[1:] if b":" in line)
            await reader.readexactly(int(fields.get(b"content-length", b"0")))
            return int(head.split(b" ", 2)[1])

        return send

    try:
        yield open_connection
    finally:
        for writer in writers:
            writer.close()


@asynccontextmanager
async def _httpx_client(url: str) -> AsyncIterator[Opener]:
    # httpcore imports the absent `sniffio` on every request; a cached miss is free.
    sys.modules.setdefault("sniffio", None)  # type: ignore[arg-type]
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
    headers = {"content-type": "application/json"}
    async with httpx.AsyncClient(limits=limits, timeout=120) as client:

        async def open_connection() -> Send:
            async def send() -> int:
                response = await client.post(url, content=PAYLOAD, headers=headers)
                return response.status_code

            return send

        yield open_connection


CLIENTS = {"raw": _raw_client, "httpx": _httpx_client}


async def _load(urls: Sequence[str], connections: int, duration: float, client: str) -> Sample:
    """`connections` in all, spread over `urls` in turn (one server or several)."""
    latencies: list[float] = []
    errors = 0
    async with AsyncExitStack() as clients:
        openers = [await clients.enter_async_context(CLIENTS[client](url)) for url in urls]
        senders = [await openers[n % len(openers)]() for n in range(connections)]
        started = time.perf_counter()
        deadline = started + duration

        async def drive(send: Send) -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                sent = time.perf_counter()
                if await send() == 201:
                    latencies.append(time.perf_counter() - sent)
                else:
                    errors += 1

        await asyncio.gather(*(drive(send) for send in senders))
        elapsed = time.perf_counter() - started
    if len(latencies) < 2:
        return Sample(len(latencies) / elapsed, float("nan"), float("nan"), errors)
    cuts = statistics.quantiles(latencies, n=100)
    return Sample(len(latencies) / elapsed, cuts[49] * 1000, cuts[98] * 1000, errors)


def measure(
    url: str | Sequence[str], connections: int, duration: float, client: str = "raw"
) -> Sample:
    urls = [url] if isinstance(url, str) else list(url)
    return asyncio.run(_load(urls, connections, duration, client))


def median_sample(samples: list[Sample]) -> Sample:
    return Sample(
        statistics.median(s.rate for s in samples),
        statistics.median(s.p50_ms for s in samples),
        statistics.median(s.p99_ms for s in samples),
        sum(s.errors for s in samples),
    )


# --- the run ---------------------------------------------------------------


def describe_run(connections: str, runs: int, duration: float, per: str) -> str:
    """The first line of a load bench's output: the machine and the sizes."""
    return (
        f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}; client and servers share "
        f"the machine; {connections}, {runs} x {duration:g} s per {per}; report body "
        f"{len(PAYLOAD)} bytes; spec KDF t={RECEIPT_COST.opslimit}, "
        f"m={RECEIPT_COST.memlimit // 2**20} MiB"
    )


def scratch_folder(prefix: str) -> Path:
    root = Path(tempfile.mkdtemp(prefix=prefix))
    root.chmod(0o711)  # a PostgreSQL cluster inside runs as the `postgres` user
    return root


def run_config(db: str, workers: int, args: argparse.Namespace, root: Path) -> dict[str, Sample]:
    """All targets on one backend with one worker count; runs interleaved."""
    results: dict[str, list[Sample]] = {}
    with ExitStack() as stack:
        databases = Databases(db, root / f"{db}-w{workers}", stack)
        urls: dict[str, str] = {}
        for index, target in enumerate(TARGETS):
            key = f"{target.name}/{target.kdf}"
            folder = databases.folder / f"t{index}"
            database_url = databases.new(f"bench_t{index}")
            urls[key] = stack.enter_context(serve(target, workers, database_url, folder))
            results[key] = []
        for url in urls.values():
            measure(url, args.connections, args.warmup, args.client)
        for _run in range(args.runs):
            for key, url in urls.items():
                results[key].append(measure(url, args.connections, args.duration, args.client))
    return {key: median_sample(samples) for key, samples in results.items()}


def report(db: str, workers: int, medians: dict[str, Sample]) -> None:
    print(f"\n{db}, {workers} worker(s)")
    header = ("target", "KDF", "reports/s", "p50 ms", "p99 ms", "errors")
    print("  {:<10} {:<5} {:>10} {:>8} {:>8} {:>7}".format(*header))
    for key, sample in medians.items():
        name, kdf = key.split("/")
        print(
            f"  {name:<10} {kdf:<5} {sample.rate:>10.1f} {sample.p50_ms:>8.1f} "
            f"{sample.p99_ms:>8.1f} {sample.errors:>7}"
        )
    rate = {key: sample.rate for key, sample in medians.items()}
    print(
        f"  real/essential: spec KDF {rate['real/spec'] / rate['essential/spec']:.2f}, "
        f"test KDF {rate['real/test'] / rate['essential/test']:.2f}; "
        f"real/bare: spec KDF {rate['real/spec'] / rate['bare/-']:.3f}, "
        f"test KDF {rate['real/test'] / rate['bare/-']:.3f}"
    )
    p99 = {key: sample.p99_ms for key, sample in medians.items()}
    print(
        f"  real/essential p99: spec KDF {p99['real/spec'] / p99['essential/spec']:.2f}, "
        f"test KDF {p99['real/test'] / p99['essential/test']:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", nargs="+", choices=["sqlite", "postgresql"],
                        default=["sqlite", "postgresql"])  # fmt: skip
    parser.add_argument("--workers", nargs="+", type=int, default=[1, 4])
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per run")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds per target")
    parser.add_argument("--runs", type=int, default=3, help="runs per target (median taken)")
    parser.add_argument(
        "--client", choices=sorted(CLIENTS), default="raw",
        help="load generator: raw asyncio HTTP/1.1 (default) or httpx.AsyncClient",
    )  # fmt: skip
    args = parser.parse_args()
    print(describe_run(f"{args.connections} connections", args.runs, args.duration, "target"))
    root = scratch_folder("bench-reports-")
    try:
        for db in args.db:
            for workers in args.workers:
                report(db, workers, run_config(db, workers, args, root))
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
