"""A reporter's reply on the staff side (SPEC 16 and 10): in the case's messages as
`"from": "reporter"`, sealed to the case's keys, and marked new in the inbox until a
focal point opens the case."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from testkit.keys import Keyring
from testkit.staff import page_sign_in

from crypto.envelope import case_aad, open_envelope

from .conftest import PASSWORD, FileReport, Headers

TEXT = "I remembered: it was the Tuesday distribution, near the water point."


def _new_marks(html: str) -> list[str]:
    """case_refs of the inbox rows that carry the new-reply mark."""
    rows = re.findall(r"<li[^>]*>(.*?)</li>", html, flags=re.S)
    return [
        re.search(r'href="/inbox/cases/([^?"]+)', row).group(1)  # type: ignore[union-attr]
        for row in rows
        if "data-new-reply" in row
    ]


def test_the_case_detail_lists_the_reply_from_the_reporter(
    client: TestClient, staff: Headers, file_report: FileReport, keyring: Keyring
) -> None:
    filed = file_report()
    focal = client.post(
        f"/api/v1/cases/{filed.case_ref}/messages",
        json={"text": "Thank you, can you tell us the day?"},
        headers=staff["unicef"],
    )
    assert focal.status_code == 201, focal.text
    answer = client.post("/api/v1/followup/messages", json={"receipt": filed.receipt, "text": TEXT})
    assert answer.status_code == 201, answer.text
    detail = client.get(f"/api/v1/cases/{filed.case_ref}", headers=staff["unicef"]).json()
    assert [message["from"] for message in detail["messages"]] == ["focal_point", "reporter"]
    reply = detail["messages"][1]
    assert reply["at"] == answer.json()["at"]
    opened = open_envelope(
        reply["envelope"],
        private_key=keyring.pairs["ke-unicef"].private_key,
        aad=case_aad(filed.case_ref),
    )
    assert opened == {"text": TEXT}
    assert TEXT not in str(detail)  # the API carries it sealed only


def test_the_inbox_marks_an_unseen_reply_new_until_a_focal_point_opens_the_case(
    client: TestClient, staff: Headers, file_report: FileReport
) -> None:
    replied, quiet = file_report(), file_report()
    page_sign_in(client, "unicef", PASSWORD)
    assert _new_marks(client.get("/inbox").text) == []
    client.post("/api/v1/followup/messages", json={"receipt": replied.receipt, "text": TEXT})
    page = client.get("/inbox").text
    assert _new_marks(page) == [replied.case_ref]
    assert "New reply from the reporter" in page
    assert quiet.case_ref not in _new_marks(page)
    case_page = client.get(f"/inbox/cases/{replied.case_ref}")
    assert case_page.status_code == 200
    assert "From the reporter" in case_page.text
    assert TEXT not in case_page.text  # the page opens it in the browser, never the server
    assert _new_marks(client.get("/inbox").text) == []
    client.post("/api/v1/followup/messages", json={"receipt": replied.receipt, "text": "again"})
    assert _new_marks(client.get("/inbox").text) == [replied.case_ref]
    # Reading the case through the API is opening it too.
    client.get(f"/api/v1/cases/{replied.case_ref}", headers=staff["network"])
    assert _new_marks(client.get("/inbox").text) == []


def test_another_focal_point_sees_no_mark_on_cases_it_cannot_list(
    client: TestClient, staff: Headers, file_report: FileReport
) -> None:
    filed = file_report()
    client.post("/api/v1/followup/messages", json={"receipt": filed.receipt, "text": TEXT})
    page_sign_in(client, "unhcr", PASSWORD)
    page = client.get("/inbox").text
    assert filed.case_ref not in page
    assert _new_marks(page) == []
