"""Every JSON endpoint against hostile JSON: deep nesting, huge numbers, wrong types, unknown keys.

No answer may be a 5xx (SPEC 4, 15), and a body nested deeper than 32 levels
gets 422 before it is parsed. The bodies are written as raw text, so they
can hold what `json.dumps` never writes (`1e400`, `NaN`, 5,000-digit integers).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from testkit import staff
from testkit.cases import report

from channels.registry import installed
from crypto.kdf import KdfCost
from intake.app import create_app
from intake.http.json_depth import MAX_DEPTH, TOO_DEEP, nesting_depth_exceeds
from intake.settings import Settings

PASSWORD = "a long fuzzing passphrase"
ACCOUNTS: dict[str, staff.AccountSpec] = {
    "fp": ("focal_point", "ke-unicef", None),
    "op": ("operator", None, "KE"),
}
CALL = {"started_at": "2026-01-01T10:00:00Z", "duration_s": 60}
HUGE = [
    "1e400",
    "-1e400",
    "1e-400",
    "9" * 5000,
    "-" + "9" * 4000,
    "NaN",
    "Infinity",
    "-Infinity",
    "0." + "0" * 5000 + "1",
    "123456789012345678901234567890",
]
FUZZ = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@dataclass
class Endpoint:
    path: str
    body: dict[str, Any]
    who: str | None  # the account whose token goes with it


def _endpoints(case_ref: str) -> list[Endpoint]:
    return [
        Endpoint("/api/v1/reports", report(), None),
        Endpoint("/api/v1/followup", {"receipt": "1234 5678 9012 3456"}, None),
        Endpoint("/api/v1/hotline/reports", report(call=CALL), "op"),
        Endpoint(f"/api/v1/cases/{case_ref}/events", {"type": "acknowledged"}, "fp"),
        Endpoint(f"/api/v1/cases/{case_ref}/messages", {"text": "Thank you."}, "fp"),
    ]


class Target:
    """The running app, its JSON endpoints and the tokens they need."""

    def __init__(self, client: TestClient, kdf_cost: KdfCost) -> None:
        self.client = client
        staff.create_accounts(client.app, kdf_cost, ACCOUNTS, password=PASSWORD)  # type: ignore[arg-type]
        self.headers = {name: staff.bearer(client, name, PASSWORD) for name in ACCOUNTS}
        filed = client.post("/api/v1/reports", json=report())
        assert filed.status_code == 201, filed.text
        self.endpoints = _endpoints(filed.json()["case_ref"])

    def post(self, endpoint: Endpoint, body: str) -> Any:
        headers = {"content-type": "application/json"}
        if endpoint.who is not None:
            headers |= self.headers[endpoint.who]
        return self.client.post(endpoint.path, content=body.encode("utf-8"), headers=headers)


@pytest.fixture
def target(settings: Settings, loaded_routing: str, kdf_cost: KdfCost) -> Any:
    unlimited = settings.model_copy(update={"report_global_limit": "0", "followup_limit": "0"})
    app: FastAPI = create_app(unlimited, channels=installed(), receipt_cost=kdf_cost)
    with TestClient(app, base_url="https://intake.example.org") as client:
        yield Target(client, kdf_cost)


_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
).map(lambda value: json.dumps(value))  # NaN and Infinity included: Python writes them


@st.composite
def _deep(draw: st.DrawFn) -> str:
    depth = draw(st.integers(min_value=MAX_DEPTH - 2, max_value=3000))
    opener, closer = draw(st.sampled_from([("[", "]"), ('{"a":', "}")]))
    return opener * depth + draw(st.sampled_from(["1", '"x"', "[]", "{}"])) + closer * depth


_raw_value = _values | st.sampled_from(HUGE) | _deep()


@st.composite
def _body(draw: st.DrawFn, base: dict[str, Any]) -> str:
    """`base` with one field replaced by, or one unknown key given, a hostile value."""
    fields = {key: json.dumps(value) for key, value in base.items()}
    if draw(st.booleans()):
        fields[draw(st.sampled_from(sorted(base)))] = draw(_raw_value)
    else:
        fields[draw(st.text(min_size=1, max_size=12))] = draw(_raw_value)
    if draw(st.integers(0, 9)) == 0:
        return draw(_raw_value)  # not an object at all
    return "{" + ",".join(f"{json.dumps(key)}:{value}" for key, value in fields.items()) + "}"


def _check(target: Target, endpoint: Endpoint, body: str) -> int:
    answer = target.post(endpoint, body)
    assert answer.status_code < 500, (endpoint.path, body[:200], answer.text[:300])
    if nesting_depth_exceeds(body.encode()):
        assert answer.status_code == 422
        assert answer.json()["detail"] == TOO_DEEP
    return int(answer.status_code)


@pytest.mark.timeout(240)
@pytest.mark.parametrize(
    "index", range(5), ids=["reports", "followup", "hotline", "events", "messages"]
)
def test_hostile_json_never_gets_a_5xx(target: Target, index: int) -> None:
    endpoint = target.endpoints[index]
    statuses: list[int] = []

    @FUZZ
    @given(body=_body(endpoint.body))
    def run(body: str) -> None:
        statuses.append(_check(target, endpoint, body))

    run()
    assert len(statuses) >= 30
    assert 422 in statuses


@pytest.mark.parametrize("path", ["/api/v1/reports", "/api/v1/followup"])
def test_33_levels_get_422_and_32_are_parsed(target: Target, path: str) -> None:
    endpoint = next(e for e in target.endpoints if e.path == path)
    inner = "[" * (MAX_DEPTH - 1) + "1" + "]" * (MAX_DEPTH - 1)  # 32 levels with the object
    parsed = target.post(endpoint, '{"narrative": ' + inner + "}")
    assert parsed.status_code == 422
    assert parsed.json()["detail"] != TOO_DEEP  # refused by the schema, after parsing
    deep = target.post(endpoint, '{"narrative": [' + inner + "]}")
    assert deep.status_code == 422
    assert deep.json()["detail"] == TOO_DEEP
    assert deep.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("text", "deep"),
    [
        (b"[" * 33 + b"]" * 33, True),
        (b"[" * 32 + b"]" * 32, False),
        (b'["' + b"[" * 100 + b'"]', False),  # brackets inside a string do not count
        (b'["\\"' + b"[" * 100 + b'"]', False),  # nor after an escaped quote
        (b"[" * 40, True),  # unterminated: still too deep
        (b"{}" * 1000, False),
    ],
)
def test_depth_counting(text: bytes, deep: bool) -> None:
    assert nesting_depth_exceeds(text) is deep
