"""A real headless Chromium and a uvicorn server in a thread, for browser tests.

Debian's Chromium (`command -v chromium`) through `playwright.sync_api`
directly (no pytest plugin, never a downloaded browser); the server runs the
app on a socket bound before it starts, with a fresh SQLite database and the
test routing table.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, sync_playwright

from channels.registry import installed
from crypto.kdf import TEST_COST
from intake.app import create_app
from intake.db import make_engine, make_sessionmaker, transaction
from intake.routing_tables.store import store_table
from intake.settings import Settings
from testkit.databases import SqliteTemplates
from testkit.keys import Keyring, routing_table_toml

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa"]}}


class ThreadedServer:
    """uvicorn serving the app in a thread, on a socket bound before it starts."""

    def __init__(self, settings: Settings) -> None:
        self.app = create_app(settings, channels=installed(), receipt_cost=TEST_COST)
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        config = uvicorn.Config(
            self.app, log_config=None, access_log=False, ws="none", http="h11", lifespan="on"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    def __enter__(self) -> ThreadedServer:
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            assert self._thread.is_alive(), "uvicorn stopped while starting"
            time.sleep(0.05)
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=20)
        self._socket.close()


@contextmanager
def routed_server(
    folder: Path,
    templates: SqliteTemplates,
    keyring: Keyring,
    *,
    more_keys: Mapping[str, list[str]] | None = None,
    **settings: object,
) -> Iterator[ThreadedServer]:
    """A server on a fresh SQLite database with the test routing table loaded."""
    table = routing_table_toml(keyring, more_keys=more_keys)
    with templates.fresh(folder / "db") as url:
        engine = make_engine(url)
        try:
            with transaction(make_sessionmaker(engine)) as session:
                store_table(session, table, loaded_by="tests")
        finally:
            engine.dispose()
        configured = Settings(data_dir=folder / "var", database_url=url, **settings)  # type: ignore[arg-type]
        with ThreadedServer(configured) as live:
            yield live


@contextmanager
def chromium() -> Iterator[Browser]:
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Chromium is not installed (apt-get install -y chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()
