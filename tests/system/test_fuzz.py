"""Schema-driven fuzzing of every endpoint in the OpenAPI document (schemathesis).

Each operation gets generated valid and invalid requests; none may get a
5xx, and every answer must match the schema the document declares for it.
Staff endpoints get a real bearer token (a focal point's; the operator's
for the hotline), and `{case_ref}` is often a real case of that focal point,
so the generator reaches past the access checks into the handlers.
SQLite only, to keep the run short; the API code is the same on both.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import response_schema_conformance
from testkit.cases import report

from channels.registry import installed
from crypto.kdf import KdfCost
from intake.app import build_context, create_app
from intake.db import transaction
from intake.reports.schemas import ReportIn
from intake.reports.service import submit
from intake.reports.submission import Submission
from intake.settings import Settings
from intake.staff.auth import Credentials, issue_token
from intake.staff.service import NewAccount, add_user

pytestmark = [
    pytest.mark.slow,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

PASSWORD = "a long fuzzing passphrase"
ACCOUNTS = {
    "fuzz-fp": ("focal_point", "ke-unicef"),
    "fuzz-operator": ("operator", None),
    "fuzz-admin": ("admin", None),
}
HOTLINE_PATH = "/api/v1/hotline/reports"
FIGURE_PATHS = ("/api/v1/stats", "/api/v1/exports/")
REAL_CASE = "REAL-CASE"  # URL-safe: path parameters are encoded after the hook


class Staff:
    """Bearer tokens by account, and a case routed to the focal point."""

    def __init__(self, tokens: dict[str, str], case_ref: str) -> None:
        self.tokens = tokens
        self.case_ref = case_ref

    def headers_for(self, path: str) -> dict[str, str]:
        if path == HOTLINE_PATH:
            name = "fuzz-operator"
        elif path.startswith(FIGURE_PATHS):  # the figures: an admin, past the role check
            name = "fuzz-admin"
        else:
            name = "fuzz-fp"
        return {"Authorization": f"Bearer {self.tokens[name]}"}


def _prepare_staff(settings: Settings, kdf_cost: KdfCost) -> Staff:
    context = build_context(settings, channels=installed(), receipt_cost=kdf_cost)
    try:
        with transaction(context.sessions) as session:
            table = context.routing.active(session).table
            for username, (role, focal_point) in ACCOUNTS.items():
                account = NewAccount(
                    username=username, role=role, password=PASSWORD, focal_point_id=focal_point
                )
                add_user(session, account, table=table, cost=kdf_cost)
        tokens = {
            name: issue_token(context, Credentials(name, PASSWORD)).access_token
            for name in ACCOUNTS
        }
        filed = submit(
            context,
            Submission(report=ReportIn.model_validate(report()), channel="api", language="en"),
        )
        return Staff(tokens, filed.case_ref)
    finally:
        context.close()


@pytest.fixture
def staff(settings: Settings, loaded_routing: str, kdf_cost: KdfCost) -> Staff:
    return _prepare_staff(settings, kdf_cost)


def _document() -> dict[str, Any]:
    """The app's OpenAPI document; building it opens no database."""
    settings = Settings(data_dir=Path("unused"), docs=True)
    document: dict[str, Any] = create_app(settings, channels=installed()).openapi()
    return document


# `schemathesis.pytest.from_fixture` does not run on pytest 9 (it sets
# `request.node._nodeid`), so the schema is the app's own document and every
# call goes to the test's app in process through `app=` (the ASGI transport).
schema = schemathesis.openapi.from_dict(_document())


@schema.hook
def flatmap_path_parameters(
    _context: schemathesis.HookContext, path_parameters: dict[str, Any] | None
) -> st.SearchStrategy[dict[str, Any] | None]:
    """Half the `{case_ref}`s name the focal point's real case (set in the test)."""
    if not path_parameters or "case_ref" not in path_parameters:
        return st.just(path_parameters)
    return st.sampled_from([{**path_parameters, "case_ref": REAL_CASE}, path_parameters])


@schema.hook
def flatmap_body(_context: schemathesis.HookContext, body: Any) -> st.SearchStrategy[Any]:
    """Half the report bodies get an assigned country, so some pass validation and are stored."""
    if not isinstance(body, dict) or not isinstance(body.get("country"), str):
        return st.just(body)
    return st.sampled_from([{**body, "country": "KE"}, body])


@pytest.fixture
def app(settings: Settings, loaded_routing: str, kdf_cost: KdfCost) -> Iterator[FastAPI]:
    application = create_app(settings, channels=installed(), receipt_cost=kdf_cost)
    yield application
    asgi.shutdown_lifespans()  # schemathesis keeps the lifespan running until here


@pytest.mark.timeout(180)
@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_5xx_and_answers_match_the_schema(
    case: schemathesis.Case[Any], app: FastAPI, staff: Staff
) -> None:
    if case.path_parameters and case.path_parameters.get("case_ref") == REAL_CASE:
        case.path_parameters["case_ref"] = staff.case_ref
    case.call_and_validate(
        app=app,
        headers=staff.headers_for(case.operation.path),
        checks=[not_a_server_error, response_schema_conformance],
    )
