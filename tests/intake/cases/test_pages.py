"""/inbox/cases/{case_ref} without JavaScript: facts, steps, message times, the step form,
and a role x page matrix for every staff page."""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from testkit.staff import csrf_of, page_sign_in

from .conftest import ACCOUNTS, PASSWORD, FileReport, Headers


def _signed_in(app: FastAPI, account: str) -> TestClient:
    client = TestClient(app, base_url="https://intake.example.org")
    assert page_sign_in(client, account, PASSWORD).status_code == 303
    return client


def test_the_case_page_shows_facts_steps_and_message_times_but_no_content(
    client: TestClient, staff: Headers, file_report: FileReport
) -> None:
    filed = file_report(narrative="Canary-44: never on the server's page")
    url = f"/api/v1/cases/{filed.case_ref}"
    client.post(f"{url}/messages", json={"text": "hello"}, headers=staff["unicef"])
    page_sign_in(client, "unicef", PASSWORD)
    page = client.get(f"/inbox/cases/{filed.case_ref}")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert "Canary-44" not in page.text
    assert "hello" not in page.text
    assert "opens only with JavaScript" in page.text
    assert "opens on this device only" in page.text
    assert len(re.findall(r"data-message-id=", page.text)) == 1
    assert '<script type="module" src="/static/js/case-page.js">' in page.text
    assert "<script>" not in page.text


def test_steps_are_recorded_by_the_form_with_the_apis_rules(
    client: TestClient, staff: Headers, file_report: FileReport
) -> None:
    case_ref = file_report().case_ref
    page_sign_in(client, "unicef", PASSWORD)
    url = f"/inbox/cases/{case_ref}"
    token = csrf_of(client.get(url).text)
    no_csrf = client.post(f"{url}/events", data={"event": "acknowledged"})
    assert no_csrf.status_code == 400
    done = client.post(
        f"{url}/events", data={"event": "acknowledged", "csrf_token": token}, follow_redirects=False
    )
    assert done.status_code == 303
    again = client.post(f"{url}/events", data={"event": "acknowledged", "csrf_token": token})
    assert again.status_code == 409
    assert "steps go forward only" in again.text
    consent = client.post(
        f"{url}/events", data={"event": "referred:assistance", "csrf_token": token}
    )
    assert consent.status_code == 409
    assert "did not agree to referral" in consent.text
    override = client.post(
        f"{url}/events",
        data={
            "event": "referred:assistance",
            "override_reason": "Immediate danger",
            "csrf_token": token,
        },
    )
    assert override.status_code == 200
    closing = client.post(f"{url}/events", data={"event": "closed", "csrf_token": token})
    assert closing.status_code == 422
    detail = client.get(f"/api/v1/cases/{case_ref}", headers=staff["unicef"]).json()
    assert [e["type"] for e in detail["events"]] == ["routed", "acknowledged", "referred"]
    assert detail["events"][-1]["override"] is True
    assert "Immediate danger" not in str(detail)


# page -> (roles that get it; others get the forbidden or not-found code)
PAGES = {
    "/inbox": ({"focal_point"}, 403),
    "/inbox/cases/{case_ref}": ({"focal_point"}, 404),
    "/staff": ({"focal_point", "coordinator", "operator", "admin"}, 200),
    "/hotline": ({"operator"}, 403),
    "/dashboard": ({"coordinator", "admin"}, 403),
}


@pytest.mark.parametrize("path", sorted(PAGES))
def test_every_role_against_every_staff_page(
    app: FastAPI, client: TestClient, staff: Headers, file_report: FileReport, path: str
) -> None:
    case_ref = file_report().case_ref
    url = path.replace("{case_ref}", case_ref)
    anonymous = client.get(url, follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/staff/login")
    allowed, refused = PAGES[path]
    opened = 0
    for account, (role, _fp, _country) in ACCOUNTS.items():
        response = _signed_in(app, account).get(url, follow_redirects=False)
        if path.startswith("/inbox/cases"):  # exactly who may open it through the API
            api = client.get(f"/api/v1/cases/{case_ref}", headers=staff[account])
            expected = 200 if api.status_code == 200 else 404
        else:
            expected = 200 if role in allowed else refused
        assert response.status_code == expected, (path, account)
        assert response.headers["cache-control"] == "no-store"
        assert "wasm-unsafe-eval" in response.headers["content-security-policy"]
        opened += expected == 200
    assert opened == len([a for a, spec in ACCOUNTS.items() if spec[0] in allowed]) or (
        path.startswith("/inbox/cases") and opened == 2  # ke-unicef and its cc ke-coordinator
    )
