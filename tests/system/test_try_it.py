"""README's "Try every role in five minutes", run as written against a real `intake serve`.

The server runs on the demo table (no INTAKE_ROUTING_FILE) with SMS on; every
shell block of the section after the one that starts the server runs in bash
from the repository root, with the port of this test's server in place of
8000 and a temporary password file. `scripts/send-sms` signs with the real
`twilio` package.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from testkit.keys import Keyring
from testkit.live import LiveEnv, LiveServer

from intake.commands.serve import MAIL_WAITS

ROOT = Path(__file__).resolve().parents[2]
SECTION = "## Try every role in five minutes"
TOKEN = "local-test-token"  # noqa: S105 - the README's local Twilio token
pytestmark = pytest.mark.slow
BLOCK = re.compile(r"```sh\n(.*?)```", re.DOTALL)


class DemoEnv(LiveEnv):
    """The live environment without a routing file: `intake serve` loads the demo table."""

    def variables(self, **overrides: str) -> dict[str, str]:
        values = super().variables(**overrides)
        del values["INTAKE_ROUTING_FILE"]
        return values


def section_blocks() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index(SECTION)
    end = text.index("\n## ", start + len(SECTION))
    return BLOCK.findall(text[start:end])


@pytest.fixture
def demo_server(database_url: str, tmp_path: Path, keyring: Keyring) -> LiveServer:
    env = DemoEnv.create(tmp_path / "live", database_url, keyring)
    server = LiveServer(env)
    server.env.update(INTAKE_TWILIO_AUTH_TOKEN=TOKEN, INTAKE_PUBLIC_URL=server.base_url)
    return server


def run_bash(script: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def send_sms(env: dict[str, str], body: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "send-sms"), "--from", "+254722000111"]
        + ["--to", "+254700000001", body],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_every_command_of_the_try_it_section_works(demo_server: LiveServer, tmp_path: Path) -> None:
    blocks = section_blocks()
    assert "intake serve" in blocks[0]
    assert "INTAKE_TWILIO_AUTH_TOKEN=local-test-token" in blocks[0]
    port = str(demo_server.port)
    with demo_server as server:
        server.start()
        assert MAIL_WAITS in server.log_path.read_text(encoding="utf-8")
        env = {**server.env}
        password = tmp_path / "password.txt"
        script = "\n".join(blocks[1:])
        script = script.replace("127.0.0.1:8000", f"127.0.0.1:{port}")
        script = script.replace("var/demo-password.txt", str(password))
        # The README's `.venv` is the one running these tests, wherever it is.
        script = script.replace(".venv/bin/python", sys.executable)
        script = script.replace(".venv/bin/intake", str(Path(sys.executable).parent / "intake"))
        done = run_bash(script, env)
        assert done.returncode == 0, done.stderr
        out = done.stdout
        assert "routing table 'demo' (load #" in out
        assert "  ke-coordinator  KE  PSEA Network  " in out
        assert "  +254700000001  KE  languages: sw, en  channels: SMS, WhatsApp" in out
        assert "  ke-sea  country: KE  category: sexual_exploitation,sexual_abuse" in out
        for line in (
            "created admin account admin",
            "created coordinator account ke-coord",
            "created focal_point account amina",
            "created operator account op",
        ):
            assert line in out
        assert "Choose your language:" in out
        receipt = re.search(r"receipt number: (\d{4} \d{4} \d{4} \d{4})", out)
        assert receipt is not None, out
        assert "mailto: alerts wait in the outbox" in done.stderr  # the worker waits, drops nothing
        status = send_sms(env, f"STATUS {receipt.group(1)}")
        assert status.returncode == 0, status.stderr
        assert status.stdout.strip()
        assert receipt.group(1) not in server.log_path.read_text(encoding="utf-8")


def test_send_sms_with_a_wrong_token_is_refused(demo_server: LiveServer) -> None:
    with demo_server as server:
        server.start()
        wrong = {**server.env, "INTAKE_TWILIO_AUTH_TOKEN": "not-the-token"}
        refused = send_sms(wrong, "HELLO")
        assert refused.returncode == 1
        assert "answered 403" in refused.stderr
        missing = {
            key: value for key, value in server.env.items() if key != "INTAKE_TWILIO_AUTH_TOKEN"
        }
        assert send_sms(missing, "HELLO").returncode == 2
