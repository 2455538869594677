"""`intake export cases` of N cases (default 100,000) to CSV and XLSX, on SQLite or PostgreSQL.

Each target is a fresh subprocess; its wall time and peak resident memory
(`ru_maxrss` from `os.wait4`) are printed next to a reference measured in the
same run on the same rows: a bare `SELECT` of the case columns written with
`csv.writer` (no joins, no formatting, no safety), in a process of its own.
`export 0` is the same command selecting no case: the fixed cost of starting
the service's context, so the difference to it is what the rows cost.

    .venv/bin/python bench/bench_exports.py [--cases 100000] [--database-url URL]

Without `--database-url`, a fresh SQLite file; with one, that database must be
empty (bench/run gives each bench a fresh database of a throwaway cluster).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REFERENCE = """
import csv, sys
from sqlalchemy import create_engine, text
engine = create_engine(sys.argv[1])
query = text("SELECT case_ref, received_at, channel, reporter_type, language, country,"
    " category, affiliation, victim_is_child, consent_contact_me,"
    " consent_share_with_investigators, consent_refer_to_services, status, due_at,"
    " acknowledged_at, rule_id, table_version FROM cases ORDER BY id")
with engine.connect() as db, open(sys.argv[2], "w", newline="") as out:
    csv.writer(out).writerows(db.execution_options(yield_per=1000).execute(query))
"""
_BATCH = 5000


def fill(url: str, count: int) -> None:
    """Run in a subprocess of its own, so the measuring parent stays small: a forked
    child's `ru_maxrss` counts the parent's pages it started with."""
    from sqlalchemy import create_engine, insert

    from intake.commands.db import apply_migrations
    from intake.models import Case, CaseEvent, CaseRecipient

    apply_migrations(url)
    engine = create_engine(url)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    with engine.begin() as connection:
        for first in range(1, count + 1, _BATCH):
            ids = range(first, min(first + _BATCH, count + 1))
            connection.execute(insert(Case), [_case(i, start + timedelta(minutes=i)) for i in ids])
            connection.execute(
                insert(CaseRecipient),
                [{"case_id": i, "focal_point_id": "ke-unicef", "position": 0} for i in ids],
            )
            connection.execute(
                insert(CaseEvent),
                [{"case_id": i, "type": "closed", "detail": '{"outcome":"resolved"}'} for i in ids],
            )
    engine.dispose()


def _case(number: int, at: datetime) -> dict[str, object]:
    return {
        "id": number,
        "case_ref": f"C-{number:012d}",
        "channel": "web",
        "reporter_type": "anonymous",
        "language": "en",
        "country": "KE" if number % 3 else "SO",
        "category": "sexual_abuse",
        "affiliation": "=UNICEF" if number % 100 == 0 else "UNICEF",
        "victim_is_child": number % 2 == 0,
        "received_at": at,
        "updated_at": at,
        "status": "closed",
        "due_at": at + timedelta(hours=24),
        "acknowledged_at": at + timedelta(hours=2),
        "rule_id": "ke-all",
        "table_version": "bench",
        "envelope": "{}",
        "envelope_sha256": "0" * 64,
        "receipt_lookup": number.to_bytes(32, "big"),
        "receipt_public_key": bytes(32),
    }


def measure(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(seconds, peak MiB) of one subprocess."""
    began = time.perf_counter()
    process = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL)
    _pid, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - began
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{argv[:3]} failed")
    return elapsed, usage.ru_maxrss / 1024  # Linux: KiB


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    parser.add_argument("--fill", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.fill:
        fill(args.fill, args.cases)
        return
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder)
        url = args.database_url or f"sqlite:///{data / 'intake.db'}"
        backend = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
        command = [sys.executable, __file__, "--fill", url, "--cases", str(args.cases)]
        subprocess.run(command, check=True)
        env = {**os.environ, "INTAKE_DATA_DIR": str(data), "INTAKE_DATABASE_URL": url}
        intake = [sys.executable, "-m", "intake.cli", "export", "cases", "--out"]
        ref = measure([sys.executable, "-c", REFERENCE, url, str(data / "r.csv")], env)
        print(f"{args.cases} cases on {backend}; reference = bare SELECT into csv.writer")
        print(f"{'target':<12}{'seconds':>9}{'peak MiB':>10}{'x time':>8}{'x memory':>10}")
        print(f"{'reference':<12}{ref[0]:>9.2f}{ref[1]:>10.1f}{1:>8.2f}{1:>10.2f}")
        targets = {
            "export 0": [*intake, str(data / "none.csv"), "--to", "2000-01-01"],
            "export csv": [*intake, str(data / "cases.csv")],
            "export xlsx": [*intake, str(data / "cases.xlsx")],
        }
        for name, argv in targets.items():
            took = measure(argv, env)
            print(
                f"{name:<12}{took[0]:>9.2f}{took[1]:>10.1f}"
                f"{took[0] / ref[0]:>8.2f}{took[1] / ref[1]:>10.2f}"
            )


if __name__ == "__main__":
    main()
