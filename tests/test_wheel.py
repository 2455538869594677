"""A built wheel ships the migrations and catalogs and migrates a fresh database."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return next(out.glob("psea_intake-*.whl"))


def test_wheel_ships_data_folders_inside_the_package(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "intake/_data/alembic/env.py" in names
    assert any(name.startswith("intake/_data/alembic/versions/") for name in names)
    assert "intake/_data/locales/fr/LC_MESSAGES/messages.po" in names
    assert not any(name.startswith(("alembic/", "locales/")) for name in names)
    assert {"crypto/__init__.py", "routing/__init__.py", "channels/__init__.py"} <= names
    assert {"intake/static/js/envelope.js", "intake/static/vendor/libsodium-sumo.js"} <= names


def test_installed_wheel_migrates_a_fresh_database(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "-q",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    deps = sysconfig.get_paths()["purelib"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTAKE_")}
    env.update(PYTHONPATH=f"{target}{os.pathsep}{deps}", INTAKE_DATA_DIR=str(tmp_path / "var"))
    result = subprocess.run(
        [
            sys.executable,
            "-I",
            "-c",
            "import sys; sys.path[:0] = sys.argv[1].split(':'); import intake.cli;"
            "print(intake.cli.__file__); sys.exit(intake.cli.main(['db', 'upgrade']))",
            env["PYTHONPATH"],
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert str(target) in result.stdout
    assert (tmp_path / "var" / "intake.db").is_file()
