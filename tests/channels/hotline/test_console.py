"""The operator console without JavaScript: plain form posts, as a browser sends them."""

from __future__ import annotations

import html
import re

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select
from testkit.cases import case_by_ref, open_case
from testkit.keys import Keyring

from channels.hotline.console import CONSENT_QUESTIONS, KEEP_IT_SAFE
from intake.i18n import SHIPPED, direction, translations_for
from intake.models import Case

from .conftest import PASSWORD

CALL_FIELDS = (
    "language",
    "reporter_type",
    "consent.contact_me",
    "consent.share_with_investigators",
    "consent.refer_to_services",
    "country",
    "category",
    "affiliation",
    "victim_is_child",
    "narrative",
    "call.caller_number",
    "call.started_at",
    "call.duration_min",
)
NARRATIVE = "A guard at the water point touched my sister and threatened her."


def _csrf(page: Response) -> str:
    match = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page.text)
    assert match, "the page has no CSRF field"
    return match.group(1)


def _form_id(page: Response) -> str:
    match = re.search(r'name="form_id" value="([A-Za-z0-9_-]+)"', page.text)
    assert match, "the page has no form id"
    return match.group(1)


SESSION = "__Host-staff_session"  # the one staff sign-in's cookie (INTAKE_PUBLIC_URL is https)


def _sign_in(client: TestClient, username: str = "op-amina", **extra: str) -> Response:
    page = client.get("/hotline/login")  # hands over to /staff/login
    form = {"username": username, "password": PASSWORD, "csrf_token": _csrf(page), **extra}
    return client.post("/staff/login", data=form, follow_redirects=False)


def _call_form(**overrides: str) -> dict[str, str]:
    form = {
        "language": "sw",
        "reporter_type": "third_party",
        "consent.contact_me": "yes",
        "consent.refer_to_services": "yes",
        "country": "KE",
        "category": "sexual_abuse",
        "affiliation": "UNICEF",
        "victim_is_child": "yes",
        "narrative": NARRATIVE,
        "location": "Kakuma water point 3",
        "victim.name": "Wanjiru",
        "victim.age": "16",
        "victim.sex": "female",
        "call.caller_number": "+254 722 000 111",
        "call.started_at": "2026-11-23 09:30",
        "call.duration_min": "7",
    }
    form.update(overrides)
    return form


def _cases(app: FastAPI) -> int:
    with app.state.context.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Case)) or 0)


@pytest.fixture
def operator(client: TestClient, accounts: dict[str, str]) -> TestClient:
    response = _sign_in(client)
    assert response.status_code == 303, response.text
    return client


def test_the_console_signs_in_through_the_staff_sign_in(
    client: TestClient, accounts: dict[str, str]
) -> None:
    login = client.get("/hotline/login?lang=sw", follow_redirects=False)
    assert login.status_code == 303
    assert login.headers["location"] == "/staff/login?lang=sw"
    response = _sign_in(client)
    assert response.status_code == 303
    assert response.headers["location"] == "/hotline?lang=en"
    cookie = next(
        value
        for name, value in response.headers.multi_items()
        if name == "set-cookie" and value.startswith(SESSION + "=")
    )
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"httponly", "secure", "path", "samesite"} <= attributes
    assert "Path=/" in cookie
    assert "SameSite=strict" in cookie or "SameSite=Strict" in cookie


def test_a_form_posted_to_the_old_sign_in_goes_on_to_the_staff_sign_in(
    client: TestClient, accounts: dict[str, str]
) -> None:
    page = client.get("/hotline/login")
    form = {"username": "op-amina", "password": PASSWORD, "csrf_token": _csrf(page)}
    response = client.post("/hotline/login", data=form)
    assert response.status_code == 200
    assert "Hotline: new call" in response.text


def test_without_a_session_the_console_sends_to_sign_in(client: TestClient) -> None:
    response = client.get("/hotline", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/staff/login")


@pytest.mark.parametrize("username", ["fp-unicef", "coord-ke", "admin"])
def test_other_roles_get_a_403_page(
    client: TestClient, accounts: dict[str, str], username: str
) -> None:
    response = _sign_in(client, username)
    assert response.status_code == 303
    assert not response.headers["location"].startswith("/hotline")
    page = client.get("/hotline", follow_redirects=False)
    assert page.status_code == 403
    assert "<html" in page.text


def test_the_call_form_is_keyboard_ready_and_clean(operator: TestClient) -> None:
    page = operator.get("/hotline")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert "content-security-policy" in page.headers
    assert "<script" not in page.text
    assert "style=" not in page.text
    fields = re.findall(r"<(?:select|input|textarea)\b[^>]*>", page.text)
    visible = [tag for tag in fields if 'type="hidden"' not in tag]
    assert 'name="language"' in visible[0]
    assert "autofocus" in visible[0]
    assert sum("autofocus" in tag for tag in visible) == 1
    for name in CALL_FIELDS:
        assert f'name="{name}"' in page.text
    assert '<option value="KE" selected>' in page.text  # the operator account's country


def test_a_call_without_javascript_ends_on_the_receipt_then_a_clean_form(
    app: FastAPI, operator: TestClient, keyring: Keyring
) -> None:
    page = operator.get("/hotline?lang=fr")
    hidden = {"csrf_token": _csrf(page), "form_id": _form_id(page)}
    saved = operator.post("/hotline?lang=fr", data={**_call_form(), **hidden})
    assert saved.status_code == 200, saved.text
    assert not re.search(r"<li>\d{4}</li>", saved.text)  # no digits until the operator asks
    assert "Afficher le reçu pour le lire à voix haute" in saved.text
    response = _show_receipt(operator, saved, lang="fr")
    assert response.status_code == 200, response.text
    groups = re.findall(r"<li>(\d{4})</li>", response.text)
    assert len(groups) == 4
    assert 'href="/hotline?lang=fr" autofocus' in response.text
    assert NARRATIVE not in response.text
    assert response.headers["cache-control"] == "no-store"
    assert "".join(groups) not in saved.text
    assert " ".join(groups) not in saved.text

    with app.state.context.sessions() as session:
        case = session.scalars(select(Case)).one()
        case = case_by_ref(session, case.case_ref)
        assert case.recipient_ids == ["ke-unicef", "ke-coordinator"]
    assert case.channel == "hotline"
    assert case.language == "sw"
    assert (case.consent_contact_me, case.consent_share_with_investigators) == (True, False)
    content = open_case(case, keyring.pairs["ke-unicef"])
    assert content["call"] == {"started_at": "2026-11-23T09:30:00Z", "duration_s": 420}
    assert content["narrative"] == NARRATIVE
    assert content["caller_number"] == "+254 722 000 111"
    assert content["victim"] == {"name": "Wanjiru", "age": 16, "sex": "female"}

    clean = operator.get("/hotline?lang=fr")
    assert _form_id(clean) != hidden["form_id"]
    for typed in (NARRATIVE, "Wanjiru", "722 000", "Kakuma", "".join(groups)):
        assert typed not in clean.text


def test_a_bad_call_keeps_what_was_typed(app: FastAPI, operator: TestClient) -> None:
    page = operator.get("/hotline")
    form = {**_call_form(country="", **{"call.duration_min": "ten"}), "csrf_token": _csrf(page)}
    response = operator.post("/hotline", data=form)
    assert response.status_code == 422
    assert NARRATIVE in response.text  # shown back to the same operator, nowhere else
    assert re.search(r'<select required id="f-country" name="country" aria-[^>]*invalid="true"',
                     response.text)  # fmt: skip
    assert 'href="#f-call-duration_min"' in response.text
    assert _cases(app) == 0


def test_a_call_without_the_csrf_token_is_not_saved(app: FastAPI, operator: TestClient) -> None:
    response = operator.post("/hotline", data=_call_form())
    assert response.status_code == 400
    assert _cases(app) == 0


def test_sign_out_ends_the_session(operator: TestClient) -> None:
    page = operator.get("/hotline")
    response = operator.post("/hotline/logout", data={"csrf_token": _csrf(page)})
    assert response.status_code == 200
    assert SESSION not in operator.cookies
    assert operator.get("/hotline", follow_redirects=False).status_code == 303


def test_a_revoked_session_cannot_be_replayed(
    app: FastAPI, client: TestClient, accounts: dict[str, str]
) -> None:
    _sign_in(client)
    token = client.cookies[SESSION]
    page = client.get("/hotline")
    client.post("/hotline/logout", data={"csrf_token": _csrf(page)})
    client.cookies.set(SESSION, token, path="/")
    response = client.post("/hotline", data={**_call_form(), "csrf_token": _csrf(page)})
    assert response.status_code == 401  # signed out: the form comes back, nothing is saved
    assert _cases(app) == 0


@pytest.mark.parametrize("language", SHIPPED)
def test_the_console_speaks_the_operators_language(operator: TestClient, language: str) -> None:
    page = operator.get(f"/hotline?lang={language}")
    text = html.unescape(page.text)
    translations = translations_for(language)
    assert f'<html lang="{language}" dir="{direction(language)}">' in text
    for msgid in ("Hotline: new call", "Who is calling?", "Save the call and show the receipt"):
        assert translations.gettext(msgid) in text
        assert language == "en" or translations.gettext(msgid) != msgid


def test_accept_language_chooses_the_console_language(operator: TestClient) -> None:
    page = operator.get("/hotline", headers={"Accept-Language": "so,en;q=0.5"})
    assert '<html lang="so"' in page.text


def test_the_same_form_sent_twice_stores_one_call(app: FastAPI, operator: TestClient) -> None:
    page = operator.get("/hotline")
    form = {**_call_form(), "csrf_token": _csrf(page), "form_id": _form_id(page)}
    first = operator.post("/hotline", data=form)
    assert first.status_code == 200
    again = operator.post("/hotline", data=form)
    assert again.status_code == 409
    assert "already saved" in again.text
    assert not re.search(r"<li>\d{4}</li>", again.text)  # the receipt is not shown again
    assert _cases(app) == 1


def _ticket(page: httpx.Response) -> str:
    match = re.search(r'name="ticket" value="([^"]+)"', page.text)
    assert match is not None, page.text
    return match.group(1)


def _show_receipt(
    operator: TestClient, saved: httpx.Response, *, lang: str = "en"
) -> httpx.Response:
    form = {"csrf_token": _csrf(saved), "ticket": _ticket(saved)}
    caller = re.search(r'name="caller_language" value="([a-z]+)"', saved.text)
    if caller is not None:
        form["caller_language"] = caller.group(1)
    return operator.post(f"/hotline/receipt?lang={lang}", data=form)


def _save_call(operator: TestClient) -> httpx.Response:
    page = operator.get("/hotline")
    form = {**_call_form(), "csrf_token": _csrf(page), "form_id": _form_id(page)}
    saved = operator.post("/hotline", data=form)
    assert saved.status_code == 200, saved.text
    return saved


def test_the_receipt_is_shown_once_on_request_and_never_again(operator: TestClient) -> None:
    saved = _save_call(operator)
    ticket = _ticket(saved)
    assert "Show the receipt to read it aloud" in saved.text
    shown = _show_receipt(operator, saved)
    assert shown.status_code == 200
    groups = re.findall(r"<li>(\d{4})</li>", shown.text)
    assert len(groups) == 4
    for form in (" ".join(groups), "".join(groups)):
        assert form not in saved.text  # sealed: the saved page holds no receipt
        assert form not in ticket
    for _ in range(2):  # a reload of the POST, or Back and the button again
        again = _show_receipt(operator, saved)
        assert again.status_code == 410
        assert "The receipt is not shown again" in again.text
        assert not re.search(r"<li>\d{4}</li>", again.text)


def test_a_forged_or_foreign_ticket_shows_nothing(
    app: FastAPI, operator: TestClient, accounts: dict[str, str]
) -> None:
    saved = _save_call(operator)
    forged = {"csrf_token": _csrf(saved), "ticket": _ticket(saved)[:-4] + "AAAA"}
    assert operator.post("/hotline/receipt", data=forged).status_code == 410
    assert _show_receipt(operator, saved).status_code == 200  # the real ticket still works once


def _caller_blocks(page: httpx.Response) -> list[tuple[str, str, str]]:
    """(lang, dir, words) of each block in the caller's language."""
    found = re.findall(
        r'class="[^"]*hl-caller[^"]*" lang="([a-z]+)" dir="(ltr|rtl)"><q>([^<]*)</q>', page.text
    )
    return [(lang, way, html.unescape(words)) for lang, way, words in found]


@pytest.mark.parametrize("caller", ["sw", "ar", "ps", "my"])
def test_changing_the_callers_language_shows_the_questions_in_it_without_javascript(
    app: FastAPI, operator: TestClient, caller: str
) -> None:
    page = operator.get("/hotline?lang=en")
    assert _caller_blocks(page) == []  # the caller is taken to speak the operator's language
    form = {**_call_form(language=caller), "csrf_token": _csrf(page), "form_id": _form_id(page)}
    shown = operator.post("/hotline?lang=en", data={**form, "show_language": "1"})
    assert shown.status_code == 200, shown.text
    said = translations_for(caller).gettext
    expected = [
        (caller, direction(caller), said(question)) for _code, question in CONSENT_QUESTIONS
    ]
    assert _caller_blocks(shown) == expected
    assert all(
        words != question
        for (_l, _d, words), (_c, question) in zip(expected, CONSENT_QUESTIONS, strict=True)
    )
    for _code, question in CONSENT_QUESTIONS:  # the operator's own words stay
        assert f"<q>{html.escape(question, quote=False)}</q>" in shown.text
    assert html.escape(NARRATIVE, quote=False) in shown.text  # what was typed is kept
    assert f'<option value="{caller}" lang="{caller}" selected>' in shown.text
    assert _form_id(shown) == form["form_id"]
    assert _cases(app) == 0  # showing the words saves nothing

    saved = operator.post("/hotline?lang=en", data=form)
    assert saved.status_code == 200
    assert f'name="caller_language" value="{caller}"' in saved.text
    receipt = _show_receipt(operator, saved)
    assert receipt.status_code == 200
    assert _caller_blocks(receipt) == [(caller, direction(caller), said(KEEP_IT_SAFE))]
    assert html.escape(KEEP_IT_SAFE, quote=False) in receipt.text


def test_a_caller_who_speaks_the_operators_language_sees_the_words_once(
    operator: TestClient,
) -> None:
    page = operator.get("/hotline?lang=fr")
    form = {**_call_form(language="fr"), "csrf_token": _csrf(page), "form_id": _form_id(page)}
    shown = operator.post("/hotline?lang=fr", data={**form, "show_language": "1"})
    assert _caller_blocks(shown) == []
    french = translations_for("fr").gettext(CONSENT_QUESTIONS[0][1])
    assert shown.text.count(html.escape(french, quote=False)) == 1


def test_an_unknown_caller_language_on_the_receipt_form_falls_back_quietly(
    operator: TestClient,
) -> None:
    saved = _save_call(operator)
    form = {"csrf_token": _csrf(saved), "ticket": _ticket(saved), "caller_language": "xx"}
    receipt = operator.post("/hotline/receipt?lang=en", data=form)
    assert receipt.status_code == 200
    assert _caller_blocks(receipt) == []
    assert len(re.findall(r"<li>(\d{4})</li>", receipt.text)) == 4
