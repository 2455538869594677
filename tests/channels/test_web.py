"""The reporter's web pages: /report and /followup, server-rendered, in six languages."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from babel import Locale
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import select
from testkit.cases import case_by_ref, open_case
from testkit.keys import Keyring

from channels.registry import installed
from crypto.envelope import case_aad, seal
from crypto.kdf import KdfCost
from crypto.receipt import seal_to_public_key
from intake import i18n
from intake.app import create_app
from intake.models import Case, CaseMessage
from intake.reports.field_errors import MESSAGES
from intake.settings import Settings
from routing.constants import CATEGORIES

BASE_URL = "https://intake.example.org"
RECEIPT = re.compile(r"\b\d{4} \d{4} \d{4} \d{4}\b")
PAGE_BUDGET = 30_000


class Page(HTMLParser):
    """Start tags with their attributes, and the text inside each element with an id."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.texts: dict[str, str] = {}
        self._open: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        self.tags.append((tag, attributes))
        if "id" in attributes:
            self._open.append(attributes["id"])
            self.texts[attributes["id"]] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag in ("textarea", "p", "fieldset", "div") and self._open:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        if self._open:
            self.texts[self._open[-1]] += data

    def all(self, tag: str, **match: str) -> list[dict[str, str]]:
        return [
            attrs
            for name, attrs in self.tags
            if name == tag and all(attrs.get(key) == value for key, value in match.items())
        ]

    def one(self, tag: str, **match: str) -> dict[str, str]:
        found = self.all(tag, **match)
        assert len(found) == 1, (tag, match, found)
        return found[0]

    def html_attrs(self) -> dict[str, str]:
        return self.one("html")


def _token(client: TestClient, path: str = "/report", lang: str = "en") -> str:
    page = Page(client.get(f"{path}?lang={lang}").text)
    return page.one("input", name="csrf_token")["value"]


def _fields(**overrides: str | None) -> dict[str, str]:
    fields: dict[str, str | None] = {
        "reporter_type": "anonymous",
        "language": "en",
        "country": "KE",
        "category": "sexual_abuse",
        "affiliation": "UNICEF",
        "victim_is_child": "no",
        "narrative": "A distribution worker asked for sex in exchange for food.",
        "incident_date": "",
        "location": "",
        "reporter.name": "",
        "reporter.contact": "",
        "victim.name": "",
        "victim.age": "",
        "victim.sex": "",
    }
    fields.update(overrides)
    return {name: value for name, value in fields.items() if value is not None}


def _post(client: TestClient, path: str = "/report", /, **fields: str | None) -> Response:
    lang = fields.get("language") or "en"
    body = {"csrf_token": _token(client, path, lang), **_fields(**fields)}
    if path == "/followup":
        body = {key: value for key, value in body.items() if key in ("csrf_token", "receipt")}
    return client.post(f"{path}?lang={lang}", data=body)


def _cases(app: FastAPI) -> list[Case]:
    with app.state.context.sessions() as session:
        cases = list(session.scalars(select(Case)).all())
        for case in cases:
            _ = case.recipients
        return cases


# --- the form ---------------------------------------------------------------------------


@pytest.mark.parametrize("lang", i18n.SHIPPED)
def test_the_form_renders_in_every_shipped_language(client: TestClient, lang: str) -> None:
    response = client.get(f"/report?lang={lang}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = Page(response.text)
    direction = "rtl" if lang in {"ar", "ps", "fa"} else "ltr"
    assert page.html_attrs() == {"lang": lang, "dir": direction}
    kenya = Locale.parse(lang).territories["KE"]
    assert f'<option value="KE">{kenya}\n' in response.text
    translations = i18n.translations_for(lang)
    assert translations.gettext("Send the report") in response.text
    if lang != "en":
        assert translations.gettext("Send the report") != "Send the report"
        assert "Send the report" not in response.text
    switcher = {attrs["hreflang"] for attrs in page.all("a") if "hreflang" in attrs}
    assert switcher == set(i18n.SHIPPED)


def test_french_country_names_and_category_codes(client: TestClient) -> None:
    page = Page(client.get("/report?lang=fr").text)
    countries = [a["value"] for a in page.all("option") if re.fullmatch("[A-Z]{2}", a["value"])]
    assert "KE" in countries
    assert "XK" not in countries
    assert "EU" not in countries
    assert len(countries) == 249
    categories = {attrs["value"] for attrs in page.all("option")} & set(CATEGORIES)
    assert categories == set(CATEGORIES)
    assert "Somalie" in client.get("/report?lang=fr").text


def test_field_names_are_the_report_names(client: TestClient) -> None:
    page = Page(client.get("/report").text)
    names = {
        attrs.get("name") for tag in ("input", "select", "textarea") for attrs in page.all(tag)
    }
    expected = {
        "reporter_type",
        "country",
        "category",
        "affiliation",
        "victim_is_child",
        "narrative",
        "incident_date",
        "location",
        "reporter.name",
        "reporter.contact",
        "victim.name",
        "victim.age",
        "victim.sex",
        "consent.contact_me",
        "consent.share_with_investigators",
        "consent.refer_to_services",
        "language",
        "csrf_token",
    }
    assert names == expected
    assert page.one("textarea", name="narrative")["maxlength"] == "20000"
    assert page.one("input", name="incident_date")["type"] == "date"
    affiliations = [attrs["value"] for attrs in page.all("option") if attrs["value"].isupper()]
    assert {"UNICEF", "WFP", "UNHCR"} <= set(affiliations)
    assert "PSEA Network" not in affiliations  # an agency name, not a code
    assert page.one("a", **{"class": "exit"})["href"].startswith("https://")
    for attrs in page.all("input"):
        if attrs["type"] not in ("hidden", "radio", "checkbox"):
            assert page.all("label", **{"for": attrs["id"]}), attrs


@pytest.mark.parametrize(
    ("accept", "lang"),
    [("sw-KE,sw;q=0.9,en;q=0.5", "sw"), ("de-DE, ar;q=0.4", "ar"), ("de", "en"), ("", "en")],
)
def test_language_follows_accept_language(client: TestClient, accept: str, lang: str) -> None:
    page = Page(client.get("/report", headers={"Accept-Language": accept}).text)
    assert page.html_attrs()["lang"] == lang


def test_query_language_wins_and_unshipped_falls_back(client: TestClient) -> None:
    headers = {"Accept-Language": "fr"}
    assert Page(client.get("/report?lang=so", headers=headers).text).html_attrs()["lang"] == "so"
    assert Page(client.get("/report?lang=de", headers=headers).text).html_attrs()["lang"] == "fr"


# --- security properties -------------------------------------------------------------------


def test_security_headers_and_no_inline_code(client: TestClient) -> None:
    for path in ("/report", "/followup"):
        response = client.get(path)
        policy = response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy
        assert "unsafe-inline" not in policy
        assert "script-src 'self'" in policy
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["cache-control"] == "no-store"
        page = Page(response.text)
        scripts = page.all("script")
        assert scripts  # the quick exit (SPEC 14)
        for attrs in scripts:  # our own modules, from files: nothing inline
            assert attrs["type"] == "module"
            assert attrs["src"].startswith("/static/js/")
        assert response.text.count("<script") == response.text.count("></script>")
        sources = {attrs["src"] for attrs in scripts}
        # /report alone loads the module that seals in the page (SPEC 11).
        assert ("/static/js/report-form.js" in sources) == (path == "/report")
        assert not page.all("style")
        assert not [attrs for _tag, attrs in page.tags if "style" in attrs]
        assert not [attrs for _tag, attrs in page.tags if any(k.startswith("on") for k in attrs)]


def _cookie_headers(response: Response) -> list[str]:
    return response.headers.get_list("set-cookie")


def test_the_csrf_cookie_is_the_only_lasting_cookie(client: TestClient) -> None:
    sent = _post(client)
    (redirect,) = sent.history  # the receipt's one-time cookie: tests/channels/test_web_receipt.py
    responses = [client.get("/report"), client.get("/followup"), sent]
    responses.append(_post(client, "/followup", receipt="0000 0000 0000 0000"))
    for response in responses:
        cookies = [c for c in _cookie_headers(response) if not c.startswith("once=")]
        assert len(cookies) == 1
        parts = [part.strip().lower() for part in cookies[0].split(";")]
        assert parts[0].startswith("csrf=")
        assert {"httponly", "samesite=strict", "secure", "path=/"} <= set(parts)
    assert [c.split("=")[0] for c in _cookie_headers(redirect)] == ["once"]
    assert set(client.cookies.keys()) == {"csrf"}


def test_the_csrf_cookie_is_not_secure_over_plain_http(app: FastAPI) -> None:
    with TestClient(app, base_url="http://localhost") as plain:
        parts = [p.strip().lower() for p in plain.get("/report").headers["set-cookie"].split(";")]
    assert "secure" not in parts
    assert "httponly" in parts


@pytest.mark.parametrize(
    "token",
    [None, "", "0" * 64, "é" * 64, "not-the-token"],
    ids=["missing", "empty", "wrong", "non-ascii", "garbage"],
)
def test_a_bad_csrf_token_re_renders_the_form_with_input_kept(
    app: FastAPI, client: TestClient, token: str | None
) -> None:
    client.get("/report")
    body = _fields(language="fr", narrative="Kept text 8812", location="Camp 3")
    if token is not None:
        body["csrf_token"] = token
    response = client.post("/report?lang=fr", data=body)
    assert response.status_code == 400
    page = Page(response.text)
    assert page.html_attrs()["lang"] == "fr"
    assert i18n.translations_for("fr").gettext(MESSAGES["csrf_invalid"]) in response.text
    assert page.texts["f-narrative"] == "Kept text 8812"
    assert page.one("input", name="location")["value"] == "Camp 3"
    assert _cases(app) == []
    token_now = page.one("input", name="csrf_token")["value"]
    retry = client.post("/report?lang=fr", data={**body, "csrf_token": token_now})
    assert retry.status_code == 200  # the re-rendered form can be sent as it is


def test_a_token_bound_to_another_cookie_is_refused(app: FastAPI, client: TestClient) -> None:
    token = _token(client)
    client.cookies.clear()  # another browser: its own cookie, someone else's token
    client.get("/report")
    response = client.post("/report", data={"csrf_token": token, **_fields()})
    assert response.status_code == 400
    assert _cases(app) == []


def test_a_body_that_is_not_a_form_is_a_400_not_a_crash(client: TestClient) -> None:
    client.get("/report")
    response = client.post(
        "/report",
        content=json.dumps(_fields()).encode(),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400
    assert "<form" in response.text


def test_the_page_and_its_subresources_fit_the_budget(client: TestClient) -> None:
    for lang in i18n.SHIPPED:
        for path in ("/report", "/followup"):
            url = urljoin(BASE_URL, f"{path}?lang={lang}")
            response = client.get(url)
            total = len(response.content)
            page = Page(response.text)
            linked = [a.get("href", "") for a in page.all("link")]
            linked += [
                a.get("src", "") for tag in ("script", "img", "iframe") for a in page.all(tag)
            ]
            for ref in linked:
                if ref.startswith("data:"):
                    continue
                target = urljoin(url, ref)
                assert urlsplit(target).netloc == urlsplit(BASE_URL).netloc, ref
                sub = client.get(target)
                assert sub.status_code == 200, ref
                total += len(sub.content)
            assert total <= PAGE_BUDGET, (lang, path, total)


# --- submitting -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "reporter", "victim"),
    [
        ({}, None, None),
        (
            {
                "reporter_type": "third_party",
                "victim_is_child": "yes",
                "victim.name": "Neighbour's girl",
                "victim.age": "14",
                "victim.sex": "female",
                "consent.refer_to_services": "yes",
            },
            None,
            {"name": "Neighbour's girl", "age": 14, "sex": "female"},
        ),
        (
            {
                "reporter_type": "named",
                "victim_is_child": "unknown",
                "reporter.name": "Amina W.",
                "reporter.contact": "+254711000111",
                "consent.contact_me": "yes",
                "consent.share_with_investigators": "yes",
                "incident_date": "2026-10-02",
                "location": "Kakuma, block 4",
            },
            {"name": "Amina W.", "contact": "+254711000111"},
            None,
        ),
    ],
    ids=["anonymous", "third_party", "named"],
)
def test_each_reporter_type_end_to_end(
    app: FastAPI,
    client: TestClient,
    keyring: Keyring,
    overrides: dict[str, str],
    reporter: dict[str, str] | None,
    victim: dict[str, object] | None,
) -> None:
    response = _post(client, **overrides)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    receipt = RECEIPT.findall(response.text)
    assert len(receipt) == 1
    assert not any(ch.isdigit() for ch in str(response.url))
    assert receipt[0].replace(" ", "") not in response.headers.get("set-cookie", "")
    (case,) = _cases(app)
    assert case.channel == "web"
    assert case.reporter_type == overrides.get("reporter_type", "anonymous")
    assert case.language == "en"
    assert (
        case.victim_is_child
        == {"yes": True, "no": False, "unknown": None}[overrides.get("victim_is_child", "no")]
    )
    assert case.consent_contact_me is ("consent.contact_me" in overrides)
    assert case.consent_refer_to_services is ("consent.refer_to_services" in overrides)
    content = open_case(case, keyring.pairs[case.recipient_ids[0]])
    assert content["narrative"] == _fields()["narrative"]
    assert content["reporter"] == reporter
    assert content["victim"] == victim
    assert content["incident_date"] == (overrides.get("incident_date") or None)
    assert content["location"] == (overrides.get("location") or None)


def test_the_receipt_page_speaks_the_reporters_language(app: FastAPI, client: TestClient) -> None:
    response = _post(client, language="sw")
    assert response.status_code == 200
    page = Page(response.text)
    assert page.html_attrs()["lang"] == "sw"
    sw = i18n.translations_for("sw")
    assert sw.gettext("Your report was received") in response.text
    (case,) = _cases(app)
    assert case.language == "sw"


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"narrative": ""}, "narrative", "missing"),
        ({"narrative": "   "}, "narrative", "narrative_required"),
        ({"country": "XX"}, "country", "country_unknown"),
        ({"category": "gossip"}, "category", "literal_error"),
        ({"reporter_type": None}, "reporter_type", "missing"),
        ({"incident_date": "2999-01-01"}, "incident_date", "date_in_future"),
        ({"reporter.name": "Amina"}, "reporter.name", "reporter_not_anonymous"),
        ({"reporter_type": "named"}, "reporter.name", "reporter_required"),
        ({"victim.age": "twelve"}, "victim.age", "int_type"),
        ({"victim.age": "200"}, "victim.age", "less_than_equal"),
        ({"victim_is_child": "perhaps"}, "victim_is_child", "bool_type"),
        ({"victim.sex": "robot"}, "victim.sex", "literal_error"),
        ({"location": "x" * 2001}, "location", "string_too_long"),
    ],
)
def test_errors_re_render_the_form_tied_to_their_field(
    app: FastAPI, client: TestClient, overrides: dict[str, str | None], field: str, code: str
) -> None:
    lang = "fr"
    kept = {"narrative": "Témoignage gardé 5531", **overrides}
    response = _post(client, language=lang, **kept)
    assert response.status_code == 422
    page = Page(response.text)
    key = field.replace(".", "-")
    message = i18n.translations_for(lang).gettext(MESSAGES[code])
    assert page.texts[f"e-{key}"] == message
    described = page.all("fieldset", id=f"f-{key}") or [
        attrs for _tag, attrs in page.tags if attrs.get("id") == f"f-{key}"
    ]
    assert f"e-{key}" in described[0]["aria-describedby"].split()
    if described[0].get("name"):
        assert described[0]["aria-invalid"] == "true"
    summary_links = [a["href"] for a in page.all("a") if a.get("href", "").startswith("#")]
    assert f"#f-{key}" in summary_links
    if (kept["narrative"] or "").strip():
        assert page.texts["f-narrative"] == kept["narrative"]
    assert page.one("input", name="reporter.name")["value"] == kept.get("reporter.name", "")
    assert _cases(app) == []


def test_a_form_wide_error_links_to_the_form(app: FastAPI, client: TestClient) -> None:
    response = _post(client, narrative="before\x00after")
    assert response.status_code == 422
    page = Page(response.text)
    assert page.one("a", href="#report")
    assert MESSAGES["nul_character"] in response.text
    assert _cases(app) == []


def test_an_unticked_form_keeps_ticks_and_choices_after_an_error(client: TestClient) -> None:
    response = _post(
        client, narrative="", category="fraud_corruption", **{"consent.contact_me": "yes"}
    )
    page = Page(response.text)
    assert "checked" in page.one("input", name="consent.contact_me")
    assert "checked" not in page.one("input", name="consent.refer_to_services")
    assert "selected" in page.one("option", value="fraud_corruption")
    assert "checked" in page.one("input", name="reporter_type", value="anonymous")


def test_without_a_routing_table_the_form_still_renders_and_says_try_later(
    settings: Settings, kdf_cost: KdfCost
) -> None:
    app = create_app(settings, channels=installed(), receipt_cost=kdf_cost)
    with TestClient(app, base_url=BASE_URL) as client:
        assert client.get("/report").status_code == 200
        response = _post(client)
    assert response.status_code == 503
    assert MESSAGES["unavailable"] in response.text
    assert _fields()["narrative"] in response.text


def test_over_the_report_limit_the_form_says_so(
    settings: Settings, loaded_routing: str, kdf_cost: KdfCost
) -> None:
    app = create_app(
        settings.model_copy(update={"report_limit": "1/hour"}),
        channels=installed(),
        receipt_cost=kdf_cost,
    )
    with TestClient(app, base_url=BASE_URL) as client:
        assert _post(client).status_code == 200
        response = _post(client)
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) > 0
    assert MESSAGES["too_many_reports"] in response.text


# --- follow-up ----------------------------------------------------------------------------


@pytest.fixture
def filed(app: FastAPI, client: TestClient) -> tuple[str, Case]:
    receipt = RECEIPT.findall(_post(client).text)[0]
    (case,) = _cases(app)
    return receipt, case


def _add_message(app: FastAPI, keyring: Keyring, case: Case, text: str) -> None:
    envelope = seal(
        {"text": text},
        public_keys=[keyring.pairs["ke-unicef"].public_key],
        aad=case_aad(case.case_ref),
    )
    with app.state.context.sessions() as session, session.begin():
        stored = case_by_ref(session, case.case_ref)
        session.add(
            CaseMessage(
                case_id=stored.id,
                at=datetime(2026, 11, 20, 9, 30, tzinfo=UTC),
                author="ke-unicef",
                sealed_for_reporter=seal_to_public_key(text, stored.receipt_public_key),
                envelope=json.dumps(envelope),
            )
        )


@pytest.mark.parametrize("lang", ["en", "ar", "so"])
def test_followup_shows_status_and_messages_in_the_page_language(
    app: FastAPI, client: TestClient, keyring: Keyring, filed: tuple[str, Case], lang: str
) -> None:
    receipt, case = filed
    _add_message(app, keyring, case, "Thank you. <b>We</b> will call you.")
    typed = receipt.replace(" ", "-")
    response = client.post(
        f"/followup?lang={lang}",
        data={"csrf_token": _token(client, "/followup", lang), "receipt": typed},
    )
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    page = Page(response.text)
    assert page.html_attrs()["lang"] == lang
    translations = i18n.translations_for(lang)
    assert translations.gettext("Received") in response.text
    assert "Thank you. &lt;b&gt;We&lt;/b&gt; will call you." in response.text
    assert receipt not in response.text
    assert typed not in response.text


def test_followup_unknown_receipt_is_a_friendly_404(
    client: TestClient, filed: tuple[str, Case]
) -> None:
    response = client.post(
        "/followup?lang=es",
        data={"csrf_token": _token(client, "/followup", "es"), "receipt": "1111 2222 3333 4444"},
    )
    assert response.status_code == 404
    page = Page(response.text)
    message = i18n.translations_for("es").gettext(MESSAGES["receipt_unknown"])
    assert page.texts["e-receipt"] == message
    assert page.one("input", name="receipt")["aria-invalid"] == "true"


@pytest.mark.parametrize("typed", ["12", "x" * 300, "1234 5678 9012 345a"])
def test_followup_not_a_receipt_is_422(client: TestClient, typed: str) -> None:
    response = client.post(
        "/followup", data={"csrf_token": _token(client, "/followup"), "receipt": typed}
    )
    assert response.status_code == 422
    assert MESSAGES["receipt_invalid"] in response.text


def test_followup_needs_the_csrf_token(client: TestClient) -> None:
    client.get("/followup")
    response = client.post("/followup", data={"receipt": "1111 2222 3333 4444"})
    assert response.status_code == 400
    assert MESSAGES["csrf_invalid"] in response.text


def test_followup_guessing_gets_a_friendly_429(
    settings: Settings, loaded_routing: str, kdf_cost: KdfCost
) -> None:
    app = create_app(
        settings.model_copy(update={"followup_limit": "2/hour"}),
        channels=installed(),
        receipt_cost=kdf_cost,
    )
    with TestClient(app, base_url=BASE_URL) as client:
        statuses = [
            _post(client, "/followup", receipt=f"1111 2222 3333 444{n}").status_code
            for n in range(4)
        ]
        last = _post(client, "/followup", receipt="1111 2222 3333 4449")
    assert statuses[:2] == [404, 404]
    assert statuses[2:] == [429, 429]
    assert last.status_code == 429
    assert int(last.headers["retry-after"]) > 0
    assert MESSAGES["too_many_attempts"] in last.text
    assert "<form" in last.text


def test_the_receipt_page_has_no_switcher_that_would_lose_the_receipt(client: TestClient) -> None:
    page = Page(_post(client).text)
    assert not [a for a in page.all("a") if "hreflang" in a]
    assert [a for a in page.all("a") if a.get("href", "").startswith("/followup")]
