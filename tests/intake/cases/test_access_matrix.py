"""Every role against every staff endpoint; a new /api/v1 endpoint without a rule fails here."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import fastapi.routing
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

Headers = dict[str, dict[str, str]]
FileReport = Callable[..., Any]

PUBLIC = {
    ("POST", "/api/v1/reports"),
    ("POST", "/api/v1/reports/prepare"),
    ("POST", "/api/v1/followup"),
    ("POST", "/api/v1/followup/messages"),
    ("POST", "/api/v1/auth/token"),
}
# (method, path) -> roles allowed (SPEC section 4, "who" column).
RULES: dict[tuple[str, str], set[str]] = {
    ("POST", "/api/v1/hotline/reports"): {"operator"},
    ("GET", "/api/v1/cases"): {"focal_point", "coordinator"},
    ("GET", "/api/v1/cases/{case_ref}"): {"focal_point"},
    ("GET", "/api/v1/cases/{case_ref}/attachments/{attachment_id}"): {"focal_point"},
    ("POST", "/api/v1/cases/{case_ref}/events"): {"focal_point"},
    ("POST", "/api/v1/cases/{case_ref}/messages"): {"focal_point"},
    ("POST", "/api/v1/cases/{case_ref}/recipients"): {"focal_point"},
    ("GET", "/api/v1/focal-points"): {"focal_point", "coordinator", "admin"},
    ("GET", "/api/v1/stats"): {"coordinator", "admin"},
    ("GET", "/api/v1/exports/aggregate"): {"coordinator", "admin"},
    ("GET", "/api/v1/exports/cases"): {"coordinator", "admin"},
}
# One account per role; the focal point is a recipient of the case used below.
ACCOUNT_OF_ROLE = {
    "focal_point": "unicef",
    "coordinator": "coord-ke",
    "operator": "operator",
    "admin": "admin",
}


def api_endpoints(app: FastAPI) -> list[tuple[str, str]]:
    """Every (method, path) under /api: from the routes, and from OpenAPI as a cross-check."""
    # FastAPI >= 0.16x keeps included routers lazily; iter_route_contexts flattens them.
    flatten = getattr(fastapi.routing, "iter_route_contexts", None)
    routes = list(flatten(app.routes)) if flatten is not None else list(app.routes)
    found = {
        (method, path)
        for route in routes
        if isinstance(path := getattr(route, "path", None), str) and path.startswith("/api/")
        for method in getattr(route, "methods", None) or ()
        if method != "HEAD"
    }
    for path, operations in app.openapi()["paths"].items():
        if path.startswith("/api/"):
            found |= {(method.upper(), path) for method in operations}
    return sorted(found)


def test_every_api_endpoint_has_an_access_rule(app: FastAPI) -> None:
    missing = [e for e in api_endpoints(app) if e not in PUBLIC and e not in RULES]
    assert missing == [], f"add these endpoints to RULES or PUBLIC: {missing}"
    assert ("GET", "/api/v1/cases") in api_endpoints(app)


def test_every_role_against_every_staff_endpoint(
    app: FastAPI, client: TestClient, staff: Headers, file_report: FileReport
) -> None:
    case_ref = file_report().case_ref
    checked = 0
    for method, path in api_endpoints(app):
        if (method, path) in PUBLIC:
            continue
        allowed = RULES[(method, path)]
        url = path.replace("{case_ref}", case_ref)
        anonymous = client.request(method, url, json={})
        assert anonymous.status_code == 401, (method, path)
        assert anonymous.headers["www-authenticate"] == "Bearer"
        bogus = client.request(method, url, json={}, headers={"Authorization": "Bearer nope"})
        assert bogus.status_code == 401, (method, path)
        for role, account in ACCOUNT_OF_ROLE.items():
            response = client.request(method, url, json={}, headers=staff[account])
            if role in allowed:
                assert response.status_code not in (401, 403, 404), (method, path, role)
            else:
                assert response.status_code == 403, (method, path, role, response.text)
                assert set(response.json()) >= {"type", "title", "status", "detail"}
            checked += 1
    assert checked >= 4 * 5


@pytest.mark.parametrize("account", ["operator", "admin", "coord-ke"])
def test_roles_that_read_no_case_get_403_even_for_their_own_country(
    client: TestClient, staff: Headers, file_report: FileReport, account: str
) -> None:
    case_ref = file_report().case_ref
    response = client.get(f"/api/v1/cases/{case_ref}", headers=staff[account])
    assert response.status_code == 403
    assert case_ref not in response.text
