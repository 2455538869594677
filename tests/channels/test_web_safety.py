"""Safety on a shared phone (SPEC 14) for the public pages of channels/web.py.

The neutral title, no-store, autocomplete="off", the 303 to the receipt page,
one error summary naming every field with all errors at once, receipts left to
right in right-to-left pages, and `GET /`.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx2 import Response
from markupsafe import escape
from sqlalchemy import func, select

from channels.registry import installed
from channels.web_receipt import COOKIE, RECEIPT_PATH
from crypto.kdf import KdfCost
from intake import i18n
from intake.app import create_app
from intake.models import Case
from intake.reports.field_errors import MESSAGES
from intake.settings import Settings

BASE_URL = "https://intake.example.org"
RECEIPT = re.compile(r"\b\d{4} \d{4} \d{4} \d{4}\b")
NARRATIVE = "A distribution worker asked for sex in exchange for food 7731."
RTL = ("ar", "ps", "fa")


class Tags(HTMLParser):
    """Start tags with their attributes, and the title's text."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.title = ""
        self._in_title = False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {name: value or "" for name, value in attrs}))
        self._in_title = tag == "title"

    def handle_endtag(self, tag: str) -> None:
        self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data

    def all(self, tag: str, **match: str) -> list[dict[str, str]]:
        return [
            attrs
            for name, attrs in self.tags
            if name == tag and all(attrs.get(key) == value for key, value in match.items())
        ]


def _token(client: TestClient, path: str, lang: str = "en") -> str:
    (field,) = Tags(client.get(f"{path}?lang={lang}").text).all("input", name="csrf_token")
    return field["value"]


def _report(**overrides: str | None) -> dict[str, str]:
    fields: dict[str, str | None] = {
        "reporter_type": "anonymous",
        "language": "en",
        "country": "KE",
        "category": "sexual_abuse",
        "affiliation": "UNICEF",
        "victim_is_child": "no",
        "narrative": NARRATIVE,
    }
    fields.update(overrides)
    return {name: value for name, value in fields.items() if value is not None}


def _send(client: TestClient, *, follow: bool = True, **overrides: str | None) -> Response:
    lang = overrides.get("language") or "en"
    body = {"csrf_token": _token(client, "/report", lang), **_report(**overrides)}
    return client.post(f"/report?lang={lang}", data=body, follow_redirects=follow)


def _count(app: FastAPI) -> int:
    with app.state.context.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Case)) or 0)


# --- the neutral title, no-store, autocomplete --------------------------------------------


def _public_pages(client: TestClient, lang: str) -> dict[str, Response]:
    sent = _send(client, language=lang)
    return {
        "home": client.get(f"/?lang={lang}"),
        "form": client.get(f"/report?lang={lang}"),
        "errors": _send(client, language=lang, narrative=""),
        "receipt": sent,
        "neutral": client.get(f"{RECEIPT_PATH}?lang={lang}"),
        "followup": client.get(f"/followup?lang={lang}"),
        "followup errors": client.post(
            f"/followup?lang={lang}",
            data={"csrf_token": _token(client, "/followup", lang), "receipt": "12"},
        ),
    }


@pytest.mark.parametrize("lang", ["en", "ar", "my"])
def test_every_public_page_has_the_one_neutral_title_and_is_not_stored(
    client: TestClient, lang: str
) -> None:
    for name, response in _public_pages(client, lang).items():
        assert response.headers["content-type"].startswith("text/html"), name
        assert Tags(response.text).title == "Community feedback", name
        assert response.headers["cache-control"] == "no-store", name
        assert response.status_code < 500, name


def test_the_title_is_the_configured_site_name(
    settings: Settings, loaded_routing: str, kdf_cost: KdfCost
) -> None:
    configured = settings.model_copy(update={"site_name": "Water point survey"})
    app = create_app(configured, channels=installed(), receipt_cost=kdf_cost)
    with TestClient(app, base_url=BASE_URL) as client:
        for name, response in _public_pages(client, "fr").items():
            assert Tags(response.text).title == "Water point survey", name


def test_the_site_name_setting_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert Settings().site_name == "Community feedback"
    monkeypatch.setenv("INTAKE_SITE_NAME", "Feedback desk")
    assert Settings().site_name == "Feedback desk"


def test_the_303_answer_is_not_stored_either(client: TestClient) -> None:
    answer = _send(client, follow=False)
    assert answer.status_code == 303
    assert answer.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("path", ["/report", "/followup"])
def test_report_and_followup_forms_carry_autocomplete_off(client: TestClient, path: str) -> None:
    forms = Tags(client.get(path).text).all("form")
    assert forms
    for form in forms:
        assert form["autocomplete"] == "off"
        assert "novalidate" in form  # every problem named by the server at once


# --- 303 to the receipt page, the receipt once ------------------------------------------------


def test_a_sent_report_answers_303_to_the_receipt_page(app: FastAPI, client: TestClient) -> None:
    answer = _send(client, follow=False, language="sw")
    assert answer.status_code == 303
    assert answer.headers["location"] == f"{RECEIPT_PATH}?lang=sw"
    assert not RECEIPT.search(answer.text)
    assert not re.search(r"\d{4}", answer.headers["location"])
    assert _count(app) == 1
    page = client.get(answer.headers["location"])
    assert page.status_code == 200
    (receipt,) = RECEIPT.findall(page.text)
    assert i18n.translations_for("sw").gettext("Your report was received") in page.text
    assert Tags(page.text).all("html")[0]["lang"] == "sw"
    assert receipt.replace(" ", "") not in str(page.url)


def test_the_receipt_is_shown_once_then_a_neutral_page(app: FastAPI, client: TestClient) -> None:
    first = _send(client)
    assert first.history[0].status_code == 303
    assert len(RECEIPT.findall(first.text)) == 1
    assert COOKIE not in client.cookies
    again = client.get(RECEIPT_PATH)  # a reload, Back or Forward: the cookie is gone
    assert again.status_code == 200
    assert not RECEIPT.search(again.text)
    nothing = i18n.translations_for("en").gettext("There is nothing to show on this page.")
    assert nothing in again.text
    assert "Your report was received" not in again.text
    assert NARRATIVE not in first.text + again.text
    assert _count(app) == 1  # nothing was sent twice


@pytest.mark.parametrize("lang", ["en", "fa"])
def test_a_visit_without_the_cookie_is_a_neutral_page(client: TestClient, lang: str) -> None:
    page = client.get(f"{RECEIPT_PATH}?lang={lang}")
    assert page.status_code == 200
    assert Tags(page.text).all("html")[0] == {"lang": lang, "dir": i18n.direction(lang)}
    nothing = i18n.translations_for(lang).gettext("There is nothing to show on this page.")
    assert nothing in page.text
    assert not page.headers.get_list("set-cookie") or all(
        not c.startswith(f"{COOKIE}=") for c in page.headers.get_list("set-cookie")
    )
    links = {a["href"] for a in Tags(page.text).all("a")}
    assert {f"/report?lang={lang}", f"/followup?lang={lang}"} <= links


# --- one summary, every field, all at once ---------------------------------------------------


def _summary_links(html: str) -> list[str]:
    block = html.split('<div class="problems"', 1)[1].split("</div>", 1)[0]
    return re.findall(r'<a href="(#[^"]+)"', block)


def test_all_errors_are_found_at_once_and_each_is_linked(app: FastAPI, client: TestClient) -> None:
    # A name on an anonymous report and a future date: one round, not two (issue 19).
    response = _send(
        client,
        language="fr",
        narrative="",
        country="XX",
        category=None,
        incident_date="2999-01-01",
        **{"reporter.name": "Amina", "victim.age": "deux cents"},
    )
    assert response.status_code == 422
    links = _summary_links(response.text)
    expected = {
        "#f-reporter-name",
        "#f-category",
        "#f-country",
        "#f-incident_date",
        "#f-narrative",
        "#f-victim-age",
    }
    assert set(links) == expected
    assert len(links) == len(expected)
    assert links == [link for link in _page_order(response.text) if link in expected]
    ids = {attrs["id"] for _tag, attrs in Tags(response.text).tags if "id" in attrs}
    assert {link[1:] for link in links} <= ids
    fr = i18n.translations_for("fr")
    summary = response.text.split('<div class="problems"', 1)[1].split("</div>", 1)[0]
    for label in ("Your name", "What kind of problem is it?", "What happened?", "Their age"):
        assert f"<strong>{escape(fr.gettext(label))}</strong>" in summary
    assert escape(fr.gettext(MESSAGES["reporter_not_anonymous"])) in summary
    assert escape(fr.gettext(MESSAGES["date_in_future"])) in summary
    assert _count(app) == 0


def _page_order(html: str) -> list[str]:
    return [f"#{attrs['id']}" for _tag, attrs in Tags(html).tags if attrs.get("id", "")[:2] == "f-"]


def test_the_reporter_rules_alone_still_point_at_the_name(client: TestClient) -> None:
    response = _send(client, reporter_type="named")
    assert response.status_code == 422
    assert _summary_links(response.text) == ["#f-reporter-name"]


def test_the_summary_takes_the_focus(client: TestClient) -> None:
    response = _send(client, narrative="")
    (summary,) = Tags(response.text).all("div", **{"class": "problems"})
    assert summary["tabindex"] == "-1"
    assert "autofocus" in summary
    scripts = {attrs["src"] for attrs in Tags(response.text).all("script")}
    assert "/static/js/error-summary.js" in scripts


def test_followup_errors_are_summarised_with_a_link_to_the_box(client: TestClient) -> None:
    response = client.post(
        "/followup?lang=ar",
        data={"csrf_token": _token(client, "/followup", "ar"), "receipt": "12"},
    )
    assert response.status_code == 422
    assert _summary_links(response.text) == ["#f-receipt"]
    label = i18n.translations_for("ar").gettext("Receipt number")
    assert f"<strong>{escape(label)}</strong>" in response.text


def test_the_error_page_fits_the_budget_of_the_no_javascript_path(client: TestClient) -> None:
    """The page and its stylesheet: what a phone without JavaScript transfers (issue 16).

    With JavaScript the page loads libsodium to seal anyway (SPEC 11), so the
    budget is the no-JavaScript path's; the GET form's test counts its scripts too.
    """
    for lang in i18n.SHIPPED:
        response = _send(client, language=lang, narrative="", category=None)
        url = urljoin(BASE_URL, f"/report?lang={lang}")
        total = len(response.content)
        tags = Tags(response.text)
        refs = [a["href"] for a in tags.all("link") if not a["href"].startswith("data:")]
        for ref in refs:
            target = urljoin(url, ref)
            assert urlsplit(target).netloc == urlsplit(BASE_URL).netloc
            total += len(client.get(target).content)
        assert total <= 30_000, (lang, total)


# --- receipts left to right -------------------------------------------------------------------


@pytest.mark.parametrize("lang", RTL)
def test_receipts_are_left_to_right_in_right_to_left_pages(client: TestClient, lang: str) -> None:
    page = _send(client, language=lang)
    assert Tags(page.text).all("html")[0]["dir"] == "rtl"
    (receipt,) = RECEIPT.findall(page.text)
    assert f'<bdi dir="ltr">{receipt}</bdi>' in page.text
    (box,) = Tags(client.get(f"/followup?lang={lang}").text).all("input", name="receipt")
    assert box["dir"] == "ltr"


# --- GET / ---------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", i18n.SHIPPED)
def test_the_home_page_links_the_report_followup_and_staff_sign_in(
    client: TestClient, lang: str
) -> None:
    response = client.get(f"/?lang={lang}")
    assert response.status_code == 200
    tags = Tags(response.text)
    assert tags.all("html")[0] == {"lang": lang, "dir": i18n.direction(lang)}
    links = {a["href"] for a in tags.all("a")}
    assert {f"/report?lang={lang}", f"/followup?lang={lang}", f"/staff/login?lang={lang}"} <= links
    translations = i18n.translations_for(lang)
    for text in ("Make a new report", "Staff sign-in"):
        assert escape(translations.gettext(text)) in response.text
    assert len(response.content) < 10_000  # a small page


def test_the_home_page_follows_accept_language(client: TestClient) -> None:
    response = client.get("/", headers={"Accept-Language": "ps, en;q=0.5"})
    assert Tags(response.text).all("html")[0] == {"lang": "ps", "dir": "rtl"}


# --- quick exit -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/report", "/followup", RECEIPT_PATH])
def test_public_pages_have_the_quick_exit_as_a_plain_link_and_its_module(
    client: TestClient, path: str
) -> None:
    tags = Tags(client.get(path).text)
    (exit_link,) = tags.all("a", **{"class": "exit"})
    assert exit_link["href"].startswith("https://")
    assert "/static/js/quick-exit.js" in {attrs["src"] for attrs in tags.all("script")}
    assert client.get("/static/js/quick-exit.js").status_code == 200
