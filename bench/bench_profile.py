"""Where a report's latency goes: a per-stage breakdown inside the real `intake serve`.

Run: python bench/bench_profile.py [--db sqlite postgresql] [--kdf spec test]
     [--connections 16] [--duration 8] [--cprofile]

The server is `intake serve` itself (one worker, its uvicorn options), started
by this script in a child process that first wraps the stages of
POST /api/v1/reports with time.perf_counter_ns timers. The product is not
changed and carries no instrumentation: the wrappers exist only in the bench's
server process, and they record durations only, never a field, receipt or
address. Stages (ms; medians and p99 over every request of the run):
  before submit   ASGI entry to the start of `submit`: middleware, body read,
                  validation, waiting for a thread of the pool the sync route runs in
  limit check     the rate-limit read (0 when limits are off, as here)
  routing         the active table read and the decision
  receipt         a receipt from the pool made ahead, or one derived now (KDF slot wait + Argon2id)
  seal            sealing the report to the recipients' keys
  commit wait     queued for the group-commit writer, the batch's transaction and commit
  after submit    `submit` returned to the last body byte sent: response and middleware
  whole request   ASGI entry to the last body byte (the client's latency minus the socket)
plus the writer's batches (size, ms per batch). `--cprofile` adds the event
loop thread's top functions by own time (cProfile sees that thread only; what
runs in threads shows as waits). Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import atexit
import contextvars
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any, TypeVar

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
sys.path[:0] = [str(BENCH_DIR), str(ROOT)]

from bench_reports import Databases, _free_port, _wait_ready, measure  # noqa: E402

T = TypeVar("T")
STAGES = (
    "before submit",
    "limit check",
    "routing",
    "receipt",
    "seal",
    "commit wait",
    "after submit",
    "whole request",
)
_durations: dict[str, list[int]] = defaultdict(list)
_batches: list[tuple[int, int]] = []  # (size, ns)
_entered: contextvars.ContextVar[int] = contextvars.ContextVar("entered", default=0)
_returned: contextvars.ContextVar[list[int]] = contextvars.ContextVar("returned")


# --- the server side: wrappers installed before `intake serve` starts ---------


def _timed(stage: str, function: Callable[..., T]) -> Callable[..., T]:
    def wrapper(*args: Any, **kwargs: Any) -> T:
        started = time.perf_counter_ns()
        try:
            return function(*args, **kwargs)
        finally:
            _durations[stage].append(time.perf_counter_ns() - started)

    return wrapper


def _install() -> None:
    from intake.commands import serve
    from intake.reports import service, writer

    real_submit = service.submit

    def submit(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter_ns()
        if _entered.get():
            _durations["before submit"].append(started - _entered.get())
        try:
            return real_submit(*args, **kwargs)
        finally:
            box = _returned.get(None)
            if box is not None:
                box.append(time.perf_counter_ns())

    for name, stage in (("_refuse_when_over_limit", "limit check"), ("fresh_receipt", "receipt"),
                        ("_sealed", "seal")):  # fmt: skip
        setattr(service, name, _timed(stage, getattr(service, name)))
    real_active, real_decide = service._active_table, service.decide

    def active(*args: Any) -> Any:
        started = time.perf_counter_ns()
        table = real_active(*args)
        _durations["routing"].append(time.perf_counter_ns() - started)
        return table

    service._active_table = active
    service.decide = _timed("routing-decide", real_decide)
    service.submit = submit
    writer.BatchWriter.run = _timed("commit wait", writer.BatchWriter.run)  # type: ignore[method-assign]
    real_commit = writer.BatchWriter._commit

    def commit(self: Any, batch: list[Any]) -> None:
        started = time.perf_counter_ns()
        real_commit(self, batch)
        _batches.append((len(batch), time.perf_counter_ns() - started))

    writer.BatchWriter._commit = commit  # type: ignore[method-assign]
    real_factory = serve.app_from_environment

    def factory() -> Any:
        app = real_factory()
        # the channels import `submit` by name (once the app is made): rebind it there
        for module in list(sys.modules.values()):
            if getattr(module, "submit", None) is real_submit and module is not service:
                module.submit = submit
        return _Timed(app)

    serve.app_from_environment = factory


class _Timed:
    """ASGI wrapper: request entry and last byte for POST /api/v1/reports."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __getattr__(self, name: str) -> Any:
        return getattr(self.app, name)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope.get("type") != "http" or scope.get("path") != "/api/v1/reports":
            await self.app(scope, receive, send)
            return
        entered = time.perf_counter_ns()
        _entered.set(entered)
        box: list[int] = []
        _returned.set(box)

        async def timed_send(message: Any) -> None:
            await send(message)
            if message.get("type") == "http.response.body" and not message.get("more_body"):
                done = time.perf_counter_ns()
                _durations["whole request"].append(done - entered)
                if box:
                    _durations["after submit"].append(done - box[0])

        await self.app(scope, receive, timed_send)


def serve_profiled(port: int, out: Path, cprofile: bool) -> None:
    """The child: wrap the stages, run `intake serve`, write the durations on exit."""
    import cProfile
    import pstats

    from intake import cli

    _install()
    profile = cProfile.Profile() if cprofile else None

    def dump() -> None:
        top: list[str] = []
        if profile is not None:
            profile.disable()
            stats = pstats.Stats(profile)
            rows = sorted(stats.stats.items(), key=lambda item: item[1][2], reverse=True)  # type: ignore[attr-defined]
            for (file, line, name), (_cc, calls, own, cumulative, _callers) in rows[:15]:
                where = f"{Path(file).name}:{line}({name})"
                top.append(f"{own * 1000:10.0f} {cumulative * 1000:10.0f} {calls:9d}  {where}")
        payload = {"durations": _durations, "batches": _batches, "profile": top}
        out.write_text(json.dumps(payload), encoding="utf-8")

    atexit.register(dump)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if profile is not None:
        profile.enable()
    cli.main(["serve", "--port", str(port), "--workers", "1"])


# --- the bench side -----------------------------------------------------------


def _quantile(values: list[int], q: int) -> float:
    if len(values) < 2:
        return float("nan") if not values else values[0] / 1e6
    return statistics.quantiles(values, n=100)[q - 1] / 1e6


def profile_one(db: str, kdf: str, args: argparse.Namespace, root: Path) -> None:
    with ExitStack() as stack:
        databases = Databases(db, root / f"{db}-{kdf}", stack)
        folder = databases.folder / "server"
        folder.mkdir(parents=True)
        port, out = _free_port(), folder / "stages.json"
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(BENCH_DIR), str(ROOT)]),
            "INTAKE_DATA_DIR": str(folder),
            "INTAKE_DATABASE_URL": databases.new(f"profile_{kdf}"),
            "INTAKE_REPORT_LIMIT": "0",  # all load comes from one address
            "INTAKE_REPORT_GLOBAL_LIMIT": "1000000/minute",  # checked (as in use), never reached
            "INTAKE_INSECURE_TEST_KDF": "true" if kdf == "test" else "false",
        }
        code = (
            "import sys, pathlib, bench_profile; "
            "bench_profile.serve_profiled(int(sys.argv[1]), pathlib.Path(sys.argv[2]), "
            "sys.argv[3] == '1')"
        )
        command = [sys.executable, "-c", code, str(port), str(out), "1" if args.cprofile else "0"]
        log = (folder / "server.log").open("wb")
        process = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            _wait_ready(port, process, folder / "server.log")
            url = f"http://127.0.0.1:{port}/api/v1/reports"
            measure(url, args.connections, args.warmup)
            sample = measure(url, args.connections, args.duration)
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=60)
            log.close()
        data = json.loads(out.read_text(encoding="utf-8"))
        _print(db, kdf, sample, data)


def _print(db: str, kdf: str, sample: Any, data: dict[str, Any]) -> None:
    durations: dict[str, list[int]] = data["durations"]
    print(f"\n{db}, {kdf} KDF: {sample.rate:.1f} reports/s, client p50 {sample.p50_ms:.1f} ms, "
          f"p99 {sample.p99_ms:.1f} ms, errors {sample.errors}")  # fmt: skip
    print(
        "  {:<15} {:>7} {:>9} {:>9} {:>9}".format("stage", "count", "p50 ms", "p99 ms", "mean ms")
    )
    for stage in (*STAGES, "routing-decide"):
        values = durations.get(stage, [])
        mean = statistics.fmean(values) / 1e6 if values else float("nan")
        print(f"  {stage:<15} {len(values):>7} {_quantile(values, 50):>9.2f} "
              f"{_quantile(values, 99):>9.2f} {mean:>9.2f}")  # fmt: skip
    batches = data["batches"]
    if batches:
        sizes = [size for size, _ns in batches]
        times = [ns for _size, ns in batches]
        print(f"  writer batches: {len(batches)}, size median {statistics.median(sizes):g} "
              f"max {max(sizes)}, ms per batch p50 {_quantile(times, 50):.2f} "
              f"p99 {_quantile(times, 99):.2f}")  # fmt: skip
    if data["profile"]:
        print("  event loop thread, top by own time:\n     own ms     cum ms     calls  function")
        for row in data["profile"]:
            print(f"  {row}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", nargs="+", choices=["sqlite", "postgresql"],
                        default=["sqlite", "postgresql"])  # fmt: skip
    parser.add_argument("--kdf", nargs="+", choices=["spec", "test"], default=["spec", "test"])
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--duration", type=float, default=8.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--cprofile", action="store_true")
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs; {args.connections} connections, {args.duration:g} s per "
          "configuration; stages timed inside `intake serve` (1 worker)")  # fmt: skip
    root = Path(tempfile.mkdtemp(prefix="bench-profile-"))
    root.chmod(0o711)  # the PostgreSQL cluster inside runs as the `postgres` user
    try:
        for db in args.db:
            for kdf in args.kdf:
                profile_one(db, kdf, args, root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
