"""The report form's own sealed post, `POST /report/sealed` (SPEC 11 with SPEC 14's ending).

The same checks as the API's sealed report; the case is the web channel's; the
receipt goes to the receipt page in the one-time cookie, never in the answer.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from testkit.cases import case_by_ref, open_case
from testkit.keys import Keyring
from testkit.sealed import SEALED
from testkit.sealed import body as _body
from testkit.sealed import prepare as _prepare
from testkit.sealed import stored as _stored

from channels.web_receipt import COOKIE

RECEIPT = re.compile(r"\d{4} \d{4} \d{4} \d{4}")


def _csrf(client: TestClient) -> str:
    page = client.get("/report?lang=fr").text
    found = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page)
    assert found is not None
    return found.group(1)


def _post(client: TestClient, body: dict[str, Any], token: str) -> Any:
    return client.post("/report/sealed", json={"csrf_token": token, "report": body})


def test_a_sealed_post_stores_a_web_case_and_carries_the_receipt_in_the_cookie(
    app: FastAPI, client: TestClient, keyring: Keyring
) -> None:
    token = _csrf(client)
    prepared = _prepare(client)
    answer = _post(client, _body(prepared), token)
    assert answer.status_code == 201
    assert answer.json() == {"next": "/report/received?lang=fr"}
    assert not RECEIPT.search(answer.text)  # the receipt is only in the sealed cookie
    assert COOKIE in answer.cookies
    with app.state.context.sessions() as session:
        case = case_by_ref(session, prepared["case_ref"])
        assert case.channel == "web"
        assert open_case(case, keyring.pairs["ke-unicef"]) == SEALED
    shown = client.get("/report/received?lang=fr")
    assert RECEIPT.search(shown.text)
    assert not RECEIPT.search(client.get("/report/received?lang=fr").text)  # once


def test_without_the_forms_token_nothing_is_stored(app: FastAPI, client: TestClient) -> None:
    _csrf(client)
    before = _stored(app)
    answer = _post(client, _body(_prepare(client)), "0" * 64)
    assert answer.status_code == 400
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert _stored(app) == before


def test_a_reused_token_is_refused_with_the_apis_problem(app: FastAPI, client: TestClient) -> None:
    token = _csrf(client)
    body = _body(_prepare(client))
    assert _post(client, body, token).status_code == 201
    before = _stored(app)
    again = _post(client, body, token)
    assert again.status_code == 422
    assert again.json()["errors"][0]["type"] == "prepared_used"
    assert _stored(app) == before


def test_a_malformed_body_is_a_422_problem(client: TestClient) -> None:
    token = _csrf(client)
    assert client.post("/report/sealed", json={"csrf_token": token}).status_code == 422
    assert client.post("/report/sealed", content=b"not json").status_code == 422
    assert _post(client, {"country": "KE"}, token).status_code == 422
