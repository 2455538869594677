"""Reports a second through the sealed path (SPEC 11) against the version 1 path, same run.

Run: python bench/bench_sealed.py [--db sqlite] [--kdf spec test] [--connections 16]
     [--duration 5] [--runs 3]

One real `intake serve` (one worker) per backend and KDF cost, loaded in turn
by the same generator (an asyncio httpx client, N concurrent connections),
runs interleaved so drift hits both paths alike; medians of --runs printed.
  v1      POST /api/v1/reports with the sealed fields: the server seals them
  sealed  POST /api/v1/reports/prepare, the client seals (PyNaCl, in the
          generator's process, as a browser would in its own), then
          POST /api/v1/reports with the clear fields, `prepared` and `envelope`
A sealed report is two requests and one used-token row; the server seals
nothing and runs the receipt KDF once, as on the version 1 path. Nothing here
asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_reports import REPORT, Databases, Target, serve  # noqa: E402

from crypto.envelope import b64d, case_aad, seal  # noqa: E402

SEALED_FIELDS = ("narrative", "incident_date", "location", "reporter", "victim")
CLEAR = {key: value for key, value in REPORT.items() if key not in SEALED_FIELDS}
CONTENT = {
    "narrative": REPORT["narrative"],
    "incident_date": REPORT.get("incident_date"),
    "location": REPORT.get("location"),
    "reporter": None,
    "victim": {"name": None, "age": None, "sex": None, **REPORT["victim"]},
}


async def _v1(client: httpx.AsyncClient) -> bool:
    response = await client.post("/api/v1/reports", json=REPORT)
    return response.status_code == 201


async def _sealed(client: httpx.AsyncClient) -> bool:
    prepared = await client.post("/api/v1/reports/prepare", json=CLEAR)
    if prepared.status_code != 200:
        return False
    answer: dict[str, Any] = prepared.json()
    envelope = seal(
        CONTENT,
        public_keys=[b64d(key["public_key"], length=32) for key in answer["keys"]],
        aad=case_aad(answer["case_ref"]),
    )
    body = {**CLEAR, "prepared": answer["prepared"], "envelope": envelope}
    response = await client.post("/api/v1/reports", json=body)
    return response.status_code == 201


PATHS = {"v1": _v1, "sealed": _sealed}


async def _load(base: str, path: str, connections: int, duration: float) -> tuple[float, int]:
    """Reports a second over `duration`, and how many failed."""
    send = PATHS[path]
    done = failed = 0
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:
        await send(client)  # warm the connection and the server
        end = time.monotonic() + duration

        async def worker() -> None:
            nonlocal done, failed
            while time.monotonic() < end:
                if await send(client):
                    done += 1
                else:
                    failed += 1

        start = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.monotonic() - start
    return done / elapsed, failed


def run(db: str, kdf: str, args: argparse.Namespace, root: Path, stack: ExitStack) -> None:
    databases = Databases(db, root / f"{db}-{kdf}", stack)
    target = Target("real", "", None, kdf)
    (root / f"{db}-{kdf}" / f"sealed_{kdf}").mkdir(parents=True, exist_ok=True)
    url = databases.new(f"sealed_{kdf}")
    rates: dict[str, list[float]] = {"v1": [], "sealed": []}
    with serve(target, 1, url, root / f"{db}-{kdf}" / "server") as base:
        for _ in range(args.runs):
            for path in rates:
                rate, failed = asyncio.run(_load(base, path, args.connections, args.duration))
                if failed:
                    print(f"  {path}: {failed} failed", file=sys.stderr)
                rates[path].append(rate)
    v1, sealed = (statistics.median(rates[path]) for path in ("v1", "sealed"))
    print(f"{db}, {kdf} KDF, 1 worker, {args.connections} connections:")
    print(f"  v1      {v1:8.1f} reports/s")
    print(f"  sealed  {sealed:8.1f} reports/s  (prepare + client seal + submit)")
    print(f"RATIO\tsealed/v1 {db} {kdf} KDF\t{sealed / v1:.2f}")


def main() -> None:
    # All load comes from one address and exceeds the default 600/minute on purpose.
    os.environ["INTAKE_REPORT_GLOBAL_LIMIT"] = "0"
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", nargs="+", default=["sqlite"], choices=["sqlite", "postgresql"])
    parser.add_argument("--kdf", nargs="+", default=["spec", "test"], choices=["spec", "test"])
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-sealed-") as folder, ExitStack() as stack:
        for db in args.db:
            for kdf in args.kdf:
                run(db, kdf, args, Path(folder), stack)


if __name__ == "__main__":
    main()
