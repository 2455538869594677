"""Two processes against one: the real service as `intake serve`, one process, two, two servers.

Run: python bench/bench_processes.py [--db postgresql sqlite] [--connections 16]
     [--duration 5] [--runs 3]

The same generator as bench_reports.py (keep-alive HTTP/1.1 over asyncio,
the same 1.2 KB report as fast as answers come back) loads, in the same run
and interleaved, three set-ups of the real `POST /api/v1/reports`:
  one         `intake serve --workers 1`
  workers=2   `intake serve --workers 2` (uvicorn's two worker processes)
  two serves  two `intake serve --workers 1` on one database and one data
              folder (the same server secret and keys), the connections
              split between their two ports, as behind a load balancer
each at the receipt KDF cost of SPEC section 8 ("spec") and at libsodium's
minimum ("test", INTAKE_INSECURE_TEST_KDF=true), each on a fresh database.
It prints each set-up's median reports/s and p99, and both as ratios
against one process. PostgreSQL runs on a throwaway cluster from
scripts/postgres (stopped at the end). Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import shutil
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench_reports import (
    Databases,
    Sample,
    Target,
    describe_run,
    measure,
    median_sample,
    scratch_folder,
    serve,
)

KDFS = ("spec", "test")


@dataclass(frozen=True)
class Setup:
    name: str
    servers: int  # `intake serve` processes on one database
    workers: int  # uvicorn workers of each


SETUPS = (Setup("one", 1, 1), Setup("workers=2", 1, 2), Setup("two serves", 2, 1))


@contextmanager
def started(setup: Setup, kdf: str, databases: Databases, name: str) -> Iterator[list[str]]:
    """The set-up's servers on a fresh database; yields the URLs to load."""
    target = Target("real", "/api/v1/reports", None, kdf)
    database_url = databases.new(name)
    folder = databases.folder / name
    with ExitStack() as stack:
        urls = [
            stack.enter_context(
                serve(target, setup.workers, database_url, folder, f"server-{n}.log")
            )
            for n in range(setup.servers)  # one after another: the first makes the secret
        ]
        yield urls


def run_backend(db: str, args: argparse.Namespace, root: Path) -> dict[tuple[str, str], Sample]:
    samples: dict[tuple[str, str], list[Sample]] = {}
    with ExitStack() as stack:
        databases = Databases(db, root / db, stack)
        urls: dict[tuple[str, str], list[str]] = {}
        for index, (setup, kdf) in enumerate((s, k) for k in KDFS for s in SETUPS):
            urls[setup.name, kdf] = stack.enter_context(
                started(setup, kdf, databases, f"bench_p{index}")
            )
            samples[setup.name, kdf] = []
        for each in urls.values():
            measure(each, args.connections, args.warmup)
        for _run in range(args.runs):  # interleaved: drift hits every set-up alike
            for key, each in urls.items():
                samples[key].append(measure(each, args.connections, args.duration))
    return {key: median_sample(runs) for key, runs in samples.items()}


def report(db: str, medians: dict[tuple[str, str], Sample]) -> None:
    print(f"\n{db}")
    header = ("set-up", "KDF", "reports/s", "p50 ms", "p99 ms", "errors", "rate/one", "p99/one")
    print("  {:<11} {:<5} {:>10} {:>8} {:>8} {:>7} {:>9} {:>8}".format(*header))
    for (name, kdf), sample in medians.items():
        one = medians["one", kdf]
        rate, tail = sample.rate / one.rate, sample.p99_ms / one.p99_ms
        print(
            f"  {name:<11} {kdf:<5} {sample.rate:>10.1f} {sample.p50_ms:>8.1f} "
            f"{sample.p99_ms:>8.1f} {sample.errors:>7} {rate:>9.2f} {tail:>8.2f}"
        )
    for (name, kdf), sample in medians.items():
        if name != "one":
            one = medians["one", kdf]
            what = f"processes/{db}: {name} / one, {kdf} KDF"
            print(f"RATIO\t{what}, reports/s\t{sample.rate / one.rate:.2f}")
            print(f"RATIO\t{what}, p99\t{sample.p99_ms / one.p99_ms:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", nargs="+", choices=["postgresql", "sqlite"],
                        default=["postgresql", "sqlite"])  # fmt: skip
    parser.add_argument("--connections", type=int, default=16, help="in all, split over servers")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per run")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds per set-up")
    parser.add_argument("--runs", type=int, default=3, help="runs per set-up (median taken)")
    args = parser.parse_args()
    connections = f"{args.connections} connections in all"
    print(describe_run(connections, args.runs, args.duration, "set-up"))
    root = scratch_folder("bench-processes-")
    try:
        for db in args.db:
            report(db, run_backend(db, args, root))
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
