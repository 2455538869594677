"""Coordination figures at scale: `GET /api/v1/stats` and the aggregate rows over 100,000 cases.

Run: python bench/bench_coordination.py [--database-url URL] [--cases 100000] [--runs 7]

A fresh database (default: a SQLite file; bench/run also passes a fresh
PostgreSQL database) is migrated and filled with `--cases` cases spread over
the last 400 days, 12 countries, every category, channel and status, about
70 % acknowledged, 40 % referred and 20 % closed (with their `referred` and
`closed` events). Then, in the same run and interleaved, each target is
timed `--runs` times and its median printed with its ratio to the reference,
a bare `SELECT count(*) FROM cases` on the same engine:

- `stats all 90d`: an admin's `GET /api/v1/stats` (every country, the default
  90 days), through the whole app in-process (middleware, token, JSON);
- `stats all 365d`: the same over a year (about 90 % of the cases);
- `stats KE 365d`: a coordinator's, one country over a year;
- `aggregate all`: the aggregate export's rows for every year and country.

The SPEC asks the stats to stay interactive (well under a second) at this
size. Lines starting with RATIO are for bench/run. Nothing asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, insert, select

from channels.registry import installed
from crypto.kdf import TEST_COST
from intake.app import create_app
from intake.commands.db import apply_migrations
from intake.coordination.aggregate import aggregate_rows
from intake.db import make_engine, make_sessionmaker, transaction
from intake.models import Case, CaseEvent
from intake.settings import Settings
from intake.staff.service import NewAccount, add_user
from intake.vocab import CATEGORIES, CHANNELS, OUTCOMES

COUNTRIES = ("KE", "SO", "UG", "ET", "SS", "SD", "CD", "NG", "BD", "MM", "AF", "UA")
PASSWORD = "bench staff passphrase"  # noqa: S105 - a throwaway account
BATCH = 5_000
AGENCIES = ("UNICEF", "WFP", "UNHCR", "unknown")


def fill(engine: Engine, count: int, seed: int = 17) -> None:
    """`count` cases and their events, inserted in batches (Core executemany)."""
    rng = random.Random(seed)
    now = datetime.now(UTC).replace(microsecond=0)
    with engine.begin() as connection:
        next_id = 1
        for start in range(0, count, BATCH):
            cases, events = [], []
            for _ in range(min(BATCH, count - start)):
                case, case_events = _case(rng, next_id, now)
                cases.append(case)
                events.extend(case_events)
                next_id += 1
            connection.execute(insert(Case.__table__), cases)
            connection.execute(insert(CaseEvent.__table__), events)


def _case(
    rng: random.Random, ident: int, now: datetime
) -> tuple[dict[str, object], list[dict[str, object]]]:
    received = now - timedelta(minutes=rng.randrange(400 * 24 * 60))
    roll = rng.random()
    acknowledged = received + timedelta(hours=rng.expovariate(1 / 10)) if roll < 0.7 else None
    referred = (
        acknowledged + timedelta(hours=rng.expovariate(1 / 20))
        if roll < 0.4 and acknowledged
        else None
    )
    closed = roll < 0.2
    status = (
        "closed"
        if closed
        else "referred"
        if referred
        else "acknowledged"
        if acknowledged
        else "routed"
    )
    events: list[dict[str, object]] = [
        {"case_id": ident, "type": "routed", "at": received, "actor": "bench"}
    ]
    if referred is not None:
        events.append({"case_id": ident, "type": "referred", "at": referred, "actor": "bench",
                       "detail": json.dumps({"to": "investigation"})})  # fmt: skip
    if closed:
        outcome = json.dumps({"outcome": rng.choice(OUTCOMES)}, separators=(",", ":"))
        at = (referred or received) + timedelta(days=3)
        events.append({"case_id": ident, "type": "closed", "at": at, "actor": "bench",
                       "detail": outcome})  # fmt: skip
    case = {
        "id": ident, "case_ref": f"C-BENCH{ident:08d}", "channel": rng.choice(CHANNELS),
        "reporter_type": "anonymous", "language": "en", "country": rng.choice(COUNTRIES),
        "category": rng.choice(CATEGORIES), "affiliation": rng.choice(AGENCIES),
        "victim_is_child": rng.choice((True, False, None)), "consent_contact_me": False,
        "consent_share_with_investigators": False, "consent_refer_to_services": False,
        "received_at": received, "updated_at": received, "status": status,
        "due_at": received + timedelta(hours=24), "acknowledged_at": acknowledged,
        "rule_id": "bench", "table_version": "bench", "envelope": "{}", "envelope_sha256": "0" * 64,
        "receipt_lookup": ident.to_bytes(32, "big"), "receipt_public_key": bytes(32),
    }  # fmt: skip
    return case, events


def timed(work: Callable[[], object], runs: int) -> float:
    """Median milliseconds of `runs` calls (one untimed warm-up first)."""
    work()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-coordination-"))
    url = args.database_url or f"sqlite:///{folder / 'intake.db'}"
    label = url.split(":", 1)[0].split("+", 1)[0]
    apply_migrations(url)
    engine = make_engine(url)
    started = time.perf_counter()
    fill(engine, args.cases)
    print(f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}; {label}; "
          f"{args.cases:,} cases filled in {time.perf_counter() - started:.1f} s")  # fmt: skip
    settings = Settings(data_dir=folder / "var", database_url=url)
    app = create_app(settings, channels=installed(), receipt_cost=TEST_COST)
    with TestClient(app) as client:
        with transaction(app.state.context.sessions) as session:
            for name, role, country in (("admin", "admin", None), ("coord", "coordinator", "KE")):
                account = NewAccount(username=name, role=role, password=PASSWORD, country=country)
                add_user(session, account, table=None, cost=TEST_COST)
        headers = {}
        for name in ("admin", "coord"):
            token = client.post("/api/v1/auth/token", data={"username": name, "password": PASSWORD})
            headers[name] = {"Authorization": f"Bearer {token.json()['access_token']}"}
        year_ago = (date.today() - timedelta(days=364)).isoformat()
        sessions = make_sessionmaker(engine)

        def count_all() -> object:
            with sessions() as session:
                return session.scalar(select(func.count()).select_from(Case))

        def stats(account: str, **query: str) -> Callable[[], object]:
            def call() -> object:
                response = client.get("/api/v1/stats", params=query, headers=headers[account])
                assert response.status_code == 200, response.text
                return response.json()

            return call

        def aggregate() -> object:
            with sessions() as session:
                return list(aggregate_rows(session, None, None))

        targets = {
            "SELECT count(*)": count_all,
            "stats all 90d": stats("admin"),
            "stats all 365d": stats("admin", **{"from": year_ago}),
            "stats KE 365d": stats("coord", **{"from": year_ago}),
            "aggregate all": aggregate,
        }
        results = {name: timed(work, args.runs) for name, work in targets.items()}
    engine.dispose()
    reference = results["SELECT count(*)"]
    print(f"{'target':<18} {'median ms':>10} {'vs count(*)':>12}")
    for name, ms in results.items():
        print(f"{name:<18} {ms:>10.1f} {ms / reference:>12.1f}")
    for name, ms in results.items():
        if name != "SELECT count(*)":
            print(f"RATIO\tcoordination/{label}: {name} / SELECT count(*)\t{ms / reference:.1f}")
            print(f"RATIO\tcoordination/{label}: {name}, median ms\t{ms:.0f}")


if __name__ == "__main__":
    main()
