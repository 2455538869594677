"""Answering at /followup without JavaScript (SPEC 16): the reply form under the messages.

The form carries the receipt sealed with the server secret (never in clear in the
page), the CSRF pair like every form; errors come in the reporter's language and
a sent reply shows with a confirmation among the messages.
"""

from __future__ import annotations

import html
import json
import re

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from testkit.cases import case_by_ref, report
from testkit.keys import Keyring

from crypto.envelope import case_aad, open_envelope
from intake import i18n
from intake.followup.replies import REPLIES_PER_DAY
from intake.models import CaseMessage
from intake.reports.field_errors import MESSAGES

TEXT = "Canary-WEBREPLY-5: the same man came to the school today."
SENT = "Your message was sent safely to the people who handle your report."


def _hidden(page: str, name: str) -> str:
    match = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)"', page)
    assert match is not None, name
    return html.unescape(match.group(1))


def _file(client: TestClient) -> tuple[str, str]:
    answer = client.post("/api/v1/reports", json=report()).json()
    return answer["case_ref"], answer["receipt"]


def _open(client: TestClient, receipt: str, lang: str = "en") -> httpx.Response:
    form = client.get(f"/followup?lang={lang}").text
    data = {"csrf_token": _hidden(form, "csrf_token"), "receipt": receipt, "language": lang}
    response = client.post(f"/followup?lang={lang}", data=data)
    assert response.status_code == 200, response.text
    return response


def _answer(
    client: TestClient, page: httpx.Response, text: str, lang: str = "en", **changes: str
) -> httpx.Response:
    data = {
        "csrf_token": _hidden(page.text, "csrf_token"),
        "language": lang,
        "reply_to": _hidden(page.text, "reply_to"),
        "text": text,
        **changes,
    }
    return client.post(f"/followup?lang={lang}", data=data)


def _stored(app: FastAPI, case_ref: str) -> list[CaseMessage]:
    with app.state.context.sessions() as session:
        case = case_by_ref(session, case_ref)
        return list(session.scalars(select(CaseMessage).where(CaseMessage.case_id == case.id)))


def test_the_form_is_under_the_messages_and_hides_the_receipt(client: TestClient) -> None:
    _case_ref, receipt = _file(client)
    page = _open(client, receipt).text
    assert page.index("Messages for you") < page.index('<form id="reply"')
    assert '<textarea rows="5" maxlength="5000" required id="f-text" name="text"' in page
    assert receipt not in page
    assert receipt.replace(" ", "") not in page
    assert len(_hidden(page, "reply_to")) > 40  # the sealed receipt
    # Works without JavaScript: the page's only scripts are the shared quick exit and
    # history helpers (SPEC 14), none of them part of the reply form.
    scripts = set(re.findall(r'<script type="module" src="([^"]+)"></script>', page))
    assert scripts <= {"/static/js/quick-exit.js", "/static/js/forget-post.js"}
    assert page.count("<script") == len(re.findall(r"<script [^>]*src=", page))


def test_a_reply_is_sealed_stored_and_shown_with_a_confirmation(
    app: FastAPI, client: TestClient, keyring: Keyring
) -> None:
    case_ref, receipt = _file(client)
    response = _answer(client, _open(client, receipt), TEXT)
    assert response.status_code == 200, response.text
    (redirect,) = response.history  # stored, then 303: a reload never sends it again
    assert redirect.status_code == 303
    assert redirect.headers["location"] == "/followup/sent?lang=en"
    assert "Path=/followup/sent" in redirect.headers["set-cookie"]
    assert receipt not in redirect.headers["set-cookie"]
    assert response.headers["cache-control"] == "no-store"
    assert SENT in response.text
    assert html.escape(TEXT) in response.text  # among the messages
    assert "You wrote" in response.text
    assert '<form id="reply"' in response.text  # and the reporter may answer again
    [stored] = _stored(app, case_ref)
    assert stored.sender == "reporter"
    opened = open_envelope(
        json.loads(stored.envelope),
        private_key=keyring.pairs["ke-unicef"].private_key,
        aad=case_aad(case_ref),
    )
    assert opened == {"text": TEXT}
    assert receipt not in response.text


@pytest.mark.parametrize("lang", ["fr", "ar"])
@pytest.mark.parametrize(
    ("text", "code"), [("", "reply_empty"), ("   ", "reply_empty"), ("x" * 5_001, "reply_too_long")]
)
def test_a_bad_reply_is_a_clear_message_in_the_reporters_language(
    app: FastAPI, client: TestClient, lang: str, text: str, code: str
) -> None:
    case_ref, receipt = _file(client)
    response = _answer(client, _open(client, receipt, lang), text, lang)
    assert response.status_code == 422
    message = i18n.translations_for(lang).gettext(MESSAGES[code])
    assert message != MESSAGES[code]
    assert html.escape(message, quote=False) in response.text
    assert 'href="#f-text"' in response.text  # the summary links the box
    assert 'aria-invalid="true"' in response.text
    assert _stored(app, case_ref) == []


def test_the_form_needs_its_csrf_token(app: FastAPI, client: TestClient) -> None:
    case_ref, receipt = _file(client)
    response = _answer(client, _open(client, receipt), TEXT, csrf_token="forged")
    assert response.status_code == 400
    assert _stored(app, case_ref) == []


def test_a_damaged_form_asks_for_the_receipt_again(app: FastAPI, client: TestClient) -> None:
    case_ref, receipt = _file(client)
    response = _answer(client, _open(client, receipt), TEXT, reply_to="AAAA" * 20)
    assert response.status_code == 400
    assert MESSAGES["reply_form_expired"] in response.text
    assert 'name="receipt"' in response.text
    assert _stored(app, case_ref) == []


def test_over_twenty_a_day_the_page_says_so_with_retry_after(
    app: FastAPI, client: TestClient
) -> None:
    case_ref, receipt = _file(client)
    for number in range(REPLIES_PER_DAY):
        body = {"receipt": receipt, "text": f"reply {number}"}
        assert client.post("/api/v1/followup/messages", json=body).status_code == 201
    response = _answer(client, _open(client, receipt, "sw"), "one more", "sw")
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) >= 1
    message = i18n.translations_for("sw").gettext(MESSAGES["too_many_replies"])
    assert html.escape(message, quote=False) in response.text
    assert len(_stored(app, case_ref)) == REPLIES_PER_DAY


def test_the_sent_page_shows_the_messages_once_then_only_the_form(
    app: FastAPI, client: TestClient
) -> None:
    case_ref, receipt = _file(client)
    shown = _answer(client, _open(client, receipt, "fr"), TEXT, "fr")
    assert html.escape(TEXT) in shown.text
    again = client.get("/followup/sent?lang=fr")  # reload, Back or Forward
    assert again.status_code == 200
    assert html.escape(TEXT) not in again.text
    assert 'name="receipt"' in again.text  # the plain follow-up form
    assert 'lang="fr"' in again.text
    assert len(_stored(app, case_ref)) == 1


def test_the_sent_cookie_opens_nothing_on_the_receipt_page(client: TestClient) -> None:
    _case_ref, receipt = _file(client)
    page = _open(client, receipt)
    data = {
        "csrf_token": _hidden(page.text, "csrf_token"),
        "language": "en",
        "reply_to": _hidden(page.text, "reply_to"),
        "text": TEXT,
    }
    redirect = client.post("/followup?lang=en", data=data, follow_redirects=False)
    assert redirect.status_code == 303
    value = redirect.cookies["once"]
    client.cookies.clear()
    client.cookies.set("once", value, path="/report/received")
    shown = client.get("/report/received")
    assert receipt not in shown.text
    assert receipt.replace(" ", "") not in shown.text


def test_a_forged_sent_cookie_is_the_plain_form(client: TestClient) -> None:
    client.cookies.set("once", "A" * 80, path="/followup/sent")
    page = client.get("/followup/sent")
    assert page.status_code == 200
    assert 'name="receipt"' in page.text
