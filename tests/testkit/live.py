"""Real `intake serve` / `intake worker` subprocesses on loopback, for system tests and benches.

A `LiveEnv` holds everything a process of the service needs (data folder,
database URL, routing table made from a test `Keyring`); `LiveServer` and
`LiveWorker` start the real console command with it, wait for `/healthz`,
and stop or SIGKILL it by its own process id. Output goes to a log file in
the data folder's parent, shown (last lines) when a start fails.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Self

import httpx

from testkit.keys import Keyring, routing_table_toml

START_TIMEOUT_S = 45.0
STOP_TIMEOUT_S = 15.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def intake_command() -> list[str]:
    """The installed console command next to this interpreter, else the module."""
    script = Path(sys.executable).with_name("intake")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from intake.cli import main; sys.exit(main())"]


def clean_environment() -> dict[str, str]:
    """This process's environment without any INTAKE_* setting of the caller's shell."""
    return {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("INTAKE_") or name.startswith("INTAKE_TEST_")
    }


@dataclass
class LiveEnv:
    """The settings every process of one test shares (one database, one secret)."""

    folder: Path
    database_url: str
    keyring: Keyring
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def create(cls, folder: Path, database_url: str, keyring: Keyring, **extra: str) -> LiveEnv:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "routing.toml").write_text(routing_table_toml(keyring), encoding="utf-8")
        return cls(folder, database_url, keyring, dict(extra))

    @property
    def data_dir(self) -> Path:
        return self.folder / "var"

    def variables(self, **overrides: str) -> dict[str, str]:
        values = {
            "INTAKE_DATA_DIR": str(self.data_dir),
            "INTAKE_DATABASE_URL": self.database_url,
            "INTAKE_ROUTING_FILE": str(self.folder / "routing.toml"),
            "INTAKE_REPORT_LIMIT": "0",
            "INTAKE_INSECURE_TEST_KDF": "true",
            "INTAKE_LOG_LEVEL": "warning",
            **self.extra,
            **overrides,
        }
        return {**clean_environment(), **values}

    def run(self, *args: str, timeout_s: float = 60.0) -> subprocess.CompletedProcess[str]:
        """One `intake ...` command with this environment (e.g. `audit verify`)."""
        return subprocess.run(
            [*intake_command(), *args],
            env=self.variables(),
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )


class _LiveProcess:
    """One subprocess in its own session, so a SIGKILL takes its children too."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.args = args
        self.env = env
        self.log_path = log_dir / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self.starts = 0

    def spawn(self) -> None:
        if self.process is not None and self.process.poll() is None:
            raise RuntimeError(f"{self.name} is already running")
        self._close_log()
        self._log = self.log_path.open("ab")
        self.starts += 1
        self._log.write(f"\n=== start {self.starts} ===\n".encode())
        self._log.flush()
        self.process = subprocess.Popen(
            self.args,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL, as a crash would: no shutdown code runs."""
        self._signal(signal.SIGKILL)
        self._reap(STOP_TIMEOUT_S)

    def stop(self) -> int | None:
        """SIGTERM and wait; SIGKILL when it does not stop in time. Returns the exit code."""
        self._signal(signal.SIGTERM)
        code = self._reap(STOP_TIMEOUT_S)
        if self.running:
            self.kill()
        self._close_log()
        return code

    def _signal(self, number: signal.Signals) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, number)  # the group this process leads (ours)

    def _reap(self, timeout_s: float) -> int | None:
        if self.process is None:
            return None
        try:
            return self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            return None

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class LiveServer(_LiveProcess):
    """`intake serve` on a free loopback port (kept across restarts)."""

    def __init__(self, env: LiveEnv, *, name: str = "server", **overrides: str) -> None:
        self.port = free_port()
        args = [*intake_command(), "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        super().__init__(name, args, env.variables(**overrides), env.folder)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = START_TIMEOUT_S) -> Self:
        self.spawn()
        self.wait_healthy(timeout_s)
        return self

    def restart(self) -> None:
        self.kill()
        self.start()

    def wait_healthy(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        with httpx.Client(base_url=self.base_url, timeout=2.0) as client:
            while time.monotonic() < deadline:
                if not self.running:
                    raise RuntimeError(f"{self.name} exited at start:\n{self.log_tail()}")
                try:
                    if client.get("/healthz").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"{self.name} not healthy after {timeout_s} s:\n{self.log_tail()}")


class LiveWorker(_LiveProcess):
    """`intake worker` (runs until stopped)."""

    def __init__(self, env: LiveEnv, *, name: str = "worker", **overrides: str) -> None:
        super().__init__(
            name, [*intake_command(), "worker"], env.variables(**overrides), env.folder
        )

    def start(self) -> Self:
        self.spawn()
        return self


StartServer = Callable[..., LiveServer]
StartWorker = Callable[..., LiveWorker]
