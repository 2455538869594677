"""The vendored libsodium.js files are exactly the pinned upstream release files.

Offline on every run: each file's sha256 against `intake/static/vendor/libsodium.json`
and the README table. With `INTAKE_TEST_NETWORK=1`: `scripts/fetch-libsodium`
downloads the tarballs again, checks their registry integrity and compares
byte for byte.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
VENDOR = ROOT / "intake" / "static" / "vendor"
SCRIPT = ROOT / "scripts" / "fetch-libsodium"
OWN_FILES = {"README.md", "libsodium.json"}

needs_network = pytest.mark.skipif(
    os.environ.get("INTAKE_TEST_NETWORK") != "1",
    reason="downloads from the npm registry; set INTAKE_TEST_NETWORK=1",
)


def _manifest() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((VENDOR / "libsodium.json").read_text(encoding="utf-8"))
    return loaded


def _entries() -> list[tuple[dict[str, Any], dict[str, str]]]:
    return [(package, entry) for package in _manifest()["packages"] for entry in package["files"]]


def _fetch(vendor: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--vendor-dir", str(vendor)],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, **env},
        check=False,
    )


@pytest.mark.parametrize("entry", [e for _, e in _entries()], ids=lambda entry: entry["to"])
def test_vendored_file_has_the_pinned_sha256(entry: dict[str, str]) -> None:
    data = (VENDOR / entry["to"]).read_bytes()
    assert hashlib.sha256(data).hexdigest() == entry["sha256"]


def test_manifest_pins_the_sumo_build_and_the_readme_agrees() -> None:
    manifest = _manifest()
    names = {package["name"]: package for package in manifest["packages"]}
    assert set(names) == {"libsodium-sumo", "libsodium-wrappers-sumo"}
    assert names["libsodium-sumo"]["version"] == names["libsodium-wrappers-sumo"]["version"]
    readme = (VENDOR / "README.md").read_text(encoding="utf-8")
    for package, entry in _entries():
        assert package["integrity"].startswith("sha512-")
        assert package["integrity"] in readme
        assert f"| `{package['name']}` | {package['version']} | `{entry['from']}` |" in readme
        assert entry["sha256"] in readme


def test_vendor_folder_holds_only_pinned_files() -> None:
    pinned = {entry["to"] for _, entry in _entries()}
    assert {path.name for path in VENDOR.iterdir()} == pinned | OWN_FILES
    assert "LICENSE.libsodium" in pinned
    assert "ISC" in (VENDOR / "README.md").read_text(encoding="utf-8")


def test_fetch_refuses_a_tarball_that_is_not_the_pinned_one(tmp_path: Path) -> None:
    """Offline: a registry (here a folder) serving another tarball is caught by its integrity."""
    package = _manifest()["packages"][0]
    name, version = package["name"], package["version"]
    folder = tmp_path / "registry" / name / "-"
    folder.mkdir(parents=True)
    with tarfile.open(folder / f"{name}-{version}.tgz", "w:gz") as archive:
        for entry in package["files"]:
            archive.add(VENDOR / entry["to"], arcname=entry["from"])
    result = _fetch(VENDOR, NPM_CONFIG_REGISTRY=(tmp_path / "registry").as_uri())
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert "integrity" in result.stderr
    assert "is not the pinned one" in result.stderr


@needs_network
def test_fetch_finds_the_vendored_files_identical_to_the_registry_release() -> None:
    result = _fetch(VENDOR)
    assert result.returncode == 0, result.stderr
    assert "vendored files match libsodium-sumo" in result.stdout


@needs_network
def test_fetch_reports_a_changed_byte_in_one_line(tmp_path: Path) -> None:
    vendor = tmp_path / "vendor"
    shutil.copytree(VENDOR, vendor)
    target = vendor / "libsodium-wrappers.js"
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x01
    target.write_bytes(bytes(data))
    result = _fetch(vendor)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"fetch-libsodium: {target} differs from package/dist/modules-sumo/libsodium-wrappers.js"
        " of libsodium-wrappers-sumo 0.8.4"
    ]
