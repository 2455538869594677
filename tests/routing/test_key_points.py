"""A routing table naming a key that is not a full-order X25519 point is invalid (SPEC 15)."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from intake.cli import main
from routing.table import check_table_text

P = 2**255 - 19
ORDER_8 = 325606250916557431795983626356110631294008115727848805560023387167927233504
PROBLEM = "is not an X25519 public key of full order"


def _b64(u: int) -> str:
    return base64.b64encode(u.to_bytes(32, "little")).decode()


@pytest.mark.parametrize("u", [0, 1, ORDER_8, P - 1], ids=["zero", "one", "order-8", "p-1"])
def test_a_small_order_focal_point_key_makes_the_table_invalid(
    doc: dict[str, Any], toml: Callable[[dict[str, Any]], str], u: int
) -> None:
    doc["focal_points"][2]["public_keys"] = [_b64(u)]
    result = check_table_text(toml(doc))
    assert result.table is None
    assert result.problems == [
        f'focal_points[2] (id "global"): public_keys[0]: {PROBLEM} (a small-order or invalid point)'
    ]


def test_a_small_order_escrow_key_makes_the_table_invalid(
    doc: dict[str, Any], toml: Callable[[dict[str, Any]], str]
) -> None:
    doc["escrow"] = {"public_keys": [_b64(0)]}
    assert any(PROBLEM in problem for problem in check_table_text(toml(doc)).problems)


def test_routing_check_names_the_key(
    doc: dict[str, Any],
    toml: Callable[[dict[str, Any]], str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    doc["focal_points"][1]["public_keys"] = [_b64(0)]
    path = tmp_path / "routing.toml"
    path.write_text(toml(doc), encoding="utf-8")
    with pytest.raises(SystemExit) as exited:
        main(["routing", "check", str(path)])
    assert exited.value.code == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1
    assert "focal_points[1]" in lines[0]
    assert "public_keys[0]" in lines[0]
    assert PROBLEM in lines[0]
