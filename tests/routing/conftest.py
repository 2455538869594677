"""Builders for routing tests: a valid table as a dict, and a TOML writer for it."""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from crypto.keys import keypair_from_seed

Doc = dict[str, Any]


def key_bytes(n: int) -> bytes:
    """A distinct, real X25519 public key per n (deterministic: from a seed of n)."""
    return keypair_from_seed(bytes([n % 256]) * 32).public_key


def key_b64(n: int) -> str:
    return base64.b64encode(key_bytes(n)).decode()


def _value(value: object) -> str:
    if isinstance(value, Mapping):  # inline table
        return "{" + ", ".join(f"{k} = {_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return json.dumps(value)  # strings, integers, floats, booleans are TOML as JSON writes them


def to_toml(doc: Doc) -> str:
    """Enough TOML for routing tables: scalars and lists, [escrow], arrays of tables."""

    def is_tables(value: object) -> bool:
        return isinstance(value, list) and bool(value) and all(isinstance(i, dict) for i in value)

    # Plain keys first: after a [table] header they would belong to that table.
    lines = [
        f"{k} = {_value(v)}" for k, v in doc.items() if not (isinstance(v, dict) or is_tables(v))
    ]
    for key, value in doc.items():
        if isinstance(value, dict):
            lines += ["", f"[{key}]"] + [f"{k} = {_value(v)}" for k, v in value.items()]
        elif is_tables(value):
            for item in value:
                lines += ["", f"[[{key}]]"] + [f"{k} = {_value(v)}" for k, v in item.items()]
    return "\n".join(lines) + "\n"


def focal_point(ident: str, country: str, n: int, agency: str = "UNICEF") -> Doc:
    return {
        "id": ident,
        "name": f"{agency} focal point",
        "agency": agency,
        "country": country,
        "public_keys": [key_b64(n)],
        "notify": [f"mailto:{ident}@example.org"],
    }


def rule(
    ident: str,
    country: str = "*",
    category: str | list[str] = "*",
    affiliation: str = "*",
    child: bool | str = "*",
    to: tuple[str, ...] = ("global",),
    **extra: Any,
) -> Doc:
    return {
        "id": ident,
        "country": country,
        "category": category,
        "affiliation": affiliation,
        "child": child,
        "to": list(to),
        "deadline_hours": extra.pop("deadline_hours", 24),
        **extra,
    }


SEA = ["sexual_exploitation", "sexual_abuse"]

BASE: Doc = {
    "version": "2026-11-01",
    "escrow": {"public_keys": [key_b64(200)]},
    "focal_points": [
        focal_point("ke-unicef", "KE", 1),
        focal_point("ke-wfp", "KE", 2, agency="WFP"),
        focal_point("global", "CH", 3, agency="PSEA Network"),
    ],
    "numbers": [{"number": "+254700000001", "country": "KE", "languages": ["sw", "en"]}],
    "rules": [
        rule("ke-sea-unicef", "KE", SEA, "UNICEF", to=("ke-unicef",), cc=["global"]),
        rule("ke-sea-wfp", "KE", SEA, "WFP", to=("ke-wfp",)),
        rule("catch-all", deadline_hours=72),
    ],
}


@pytest.fixture
def doc() -> Doc:
    """A valid table (no problems, no warnings) for a test to change."""
    return copy.deepcopy(BASE)


@pytest.fixture(scope="session")
def toml() -> Callable[[Doc], str]:
    return to_toml


@pytest.fixture(scope="session")
def make_rule() -> Callable[..., Doc]:
    return rule


@pytest.fixture(scope="session")
def make_focal_point() -> Callable[..., Doc]:
    return focal_point


@pytest.fixture(scope="session")
def public_key() -> Callable[[int], str]:
    return key_b64
