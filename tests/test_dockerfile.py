"""The Dockerfile passes hadolint (no Docker engine here to build it)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_dockerfile_passes_hadolint() -> None:
    hadolint = shutil.which("hadolint") or str(
        Path(__import__("sys").executable).parent / "hadolint"
    )
    result = subprocess.run(
        [hadolint, "--failure-threshold", "warning", str(ROOT / "Dockerfile")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_runs_as_non_root_with_a_health_check() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert "USER 10001:10001" in text
    assert "HEALTHCHECK" in text
    assert text.count("FROM ") >= 2
    assert '"serve", "--host", "0.0.0.0"' in text
