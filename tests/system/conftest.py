"""Real `intake serve` and `intake worker` processes for the system tests.

`live_server(**env)` starts a server on the test's database (the shared
`database_url` fixture: SQLite, then PostgreSQL) and stops it at teardown;
`live_worker(**env)` does the same for a worker. Both use one `LiveEnv`,
so they share the data folder (server secret) and the routing table built
from the session's `keyring`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from testkit.keys import Keyring
from testkit.live import LiveEnv, LiveServer, LiveWorker, StartServer, StartWorker


@pytest.fixture
def live_env(database_url: str, tmp_path: Path, keyring: Keyring) -> LiveEnv:
    return LiveEnv.create(tmp_path / "live", database_url, keyring)


@pytest.fixture
def live_server(live_env: LiveEnv) -> Iterator[StartServer]:
    started: list[LiveServer] = []

    def start(name: str = "server", **overrides: str) -> LiveServer:
        server = LiveServer(live_env, name=name, **overrides)
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def live_worker(live_env: LiveEnv) -> Iterator[StartWorker]:
    started: list[LiveWorker] = []

    def start(name: str = "worker", **overrides: str) -> LiveWorker:
        worker = LiveWorker(live_env, name=name, **overrides)
        started.append(worker)
        return worker.start()

    yield start
    for worker in started:
        worker.stop()
