"""SPEC 11 in a real Chromium: the report form seals in the page; the server never sees it.

Every request the page sends is recorded (`page.on("request")`): none may
hold the narrative or any other sealed field. The stored case opens with the
focal point's key to exactly what was typed. Without JavaScript the form
posts as version 1; when sealing fails it falls back to that post.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Request
from sqlalchemy import select
from testkit.browser import ThreadedServer, chromium, routed_server
from testkit.cases import open_case
from testkit.databases import SqliteTemplates
from testkit.keys import Keyring

from intake import i18n
from intake.models import Case
from intake.reports.field_errors import MESSAGES

pytestmark = pytest.mark.browser

CANARIES = {
    "narrative": "Canary-narrative-6612 ልጄን ጠየቀ\nsecond line",
    "location": "Canary-location-3390",
    "reporter.name": "Canary-name-2281",
    "reporter.contact": "+254799000123",
    "victim.name": "Canary-victim-7714",
}


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, _sqlite_templates: SqliteTemplates, keyring: Keyring
) -> Iterator[ThreadedServer]:
    folder = tmp_path_factory.mktemp("sealed")
    with routed_server(folder, _sqlite_templates, keyring, report_limit="0") as live:
        yield live


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@dataclass
class Recorded:
    requests: list[Request] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    def paths(self) -> list[str]:
        return [request.url.split("?", 1)[0].split("/", 3)[-1] for request in self.requests]

    def sent(self) -> str:
        """Everything the page sent: URLs, headers and bodies."""
        parts: list[str] = []
        for request in self.requests:
            parts += [request.url, repr(request.headers), request.post_data or ""]
        return "\n".join(parts)


def _page(browser: Browser, *, javascript: bool = True) -> tuple[Page, Recorded]:
    context = browser.new_context(java_script_enabled=javascript)
    page = context.new_page()
    recorded = Recorded()
    page.on("request", lambda request: recorded.requests.append(request))
    page.on("console", lambda m: recorded.console_errors.append(m.text) if m.type == "error" else 0)
    return page, recorded


def _latest_case(server: ThreadedServer) -> Case:
    with server.app.state.context.sessions() as session:
        case: Case = session.scalars(select(Case).order_by(Case.id.desc()).limit(1)).one()
        _ = case.recipients
        return case


def _fill_named(page: Page) -> None:
    page.get_by_role("radio").nth(2).check()  # named
    page.locator("#f-reporter-name").fill(CANARIES["reporter.name"])
    page.locator("#f-reporter-contact").fill(CANARIES["reporter.contact"])
    page.locator("#f-category").select_option("sexual_exploitation")
    page.locator("#f-country").select_option("KE")
    page.locator("#f-affiliation").select_option("UNICEF")
    page.locator("#f-incident_date").fill("2026-10-01")
    page.locator("#f-location").fill(CANARIES["location"])
    page.locator("#f-narrative").fill(CANARIES["narrative"])
    page.locator("#f-victim_is_child").select_option("yes")
    page.locator("#f-victim-name").fill(CANARIES["victim.name"])
    page.locator("#f-victim-age").fill("15")
    page.locator("#f-consent-contact_me").check()


TYPED: dict[str, Any] = {
    "narrative": CANARIES["narrative"],  # the textarea's value, its newline as typed
    "incident_date": "2026-10-01",
    "location": CANARIES["location"],
    "reporter": {"name": CANARIES["reporter.name"], "contact": CANARIES["reporter.contact"]},
    "victim": {"name": CANARIES["victim.name"], "age": 15, "sex": None},
}
# A form post sends a textarea's newlines as CRLF (HTML form encoding); the page
# seals the textarea's value itself.
POSTED = {**TYPED, "narrative": CANARIES["narrative"].replace("\n", "\r\n")}


@pytest.mark.parametrize("lang", ["en", "am"])
def test_with_javascript_no_request_holds_a_sealed_field(
    browser: Browser, server: ThreadedServer, keyring: Keyring, lang: str
) -> None:
    page, recorded = _page(browser)
    try:
        page.goto(f"{server.url}/report?lang={lang}")
        loaded = recorded.paths()
        assert not [path for path in loaded if "vendor" in path or "envelope" in path], loaded
        _fill_named(page)
        page.locator("button[type=submit]").click()
        receipt = page.locator(".receipt").inner_text(timeout=30_000).strip()
        assert len(receipt.replace(" ", "")) == 16
        title = i18n.translations_for(lang).gettext("Your report was received")
        assert page.locator("h1").inner_text() == title
        assert page.title() == "Community feedback"  # the neutral title (SPEC 14)
        assert page.url.endswith(f"/report/received?lang={lang}")  # as the version 1 post
        assert not page.locator("#report").count()  # the typed form left the page
        paths = recorded.paths()
        assert "api/v1/reports/prepare" in paths
        posted = [r.url for r in recorded.requests if r.method == "POST"]
        assert [url.split("/", 3)[-1] for url in posted] == [
            "api/v1/reports/prepare",
            "report/sealed",
        ]
        sent = recorded.sent()
        for name, canary in CANARIES.items():
            assert canary not in sent, name
            assert canary.split("\n")[0] not in sent, name
        assert receipt.replace(" ", "") not in page.url
        case = _latest_case(server)
        assert case.channel == "web"  # the form's own sealed post, not the API
        assert (case.language, case.victim_is_child, case.consent_contact_me) == (lang, True, True)
        assert open_case(case, keyring.pairs["ke-unicef"]) == TYPED
        assert recorded.console_errors == []
    finally:
        page.context.close()


def test_without_javascript_the_version_1_post_still_works(
    browser: Browser, server: ThreadedServer, keyring: Keyring
) -> None:
    page, recorded = _page(browser, javascript=False)
    try:
        page.goto(f"{server.url}/report?lang=fr")
        _fill_named(page)
        page.locator("button[type=submit]").click()
        page.wait_for_load_state()
        assert len(page.locator(".receipt").inner_text().strip()) == 19
        paths = recorded.paths()
        assert not [path for path in paths if path.startswith(("static/js", "static/vendor"))]
        assert not [path for path in paths if path.startswith("api/")]
        case = _latest_case(server)
        assert case.channel == "web"
        assert open_case(case, keyring.pairs["ke-unicef"]) == POSTED
    finally:
        page.context.close()


def test_when_sealing_fails_the_form_posts_as_version_1(
    browser: Browser, server: ThreadedServer, keyring: Keyring
) -> None:
    page, _recorded = _page(browser)
    try:
        page.route("**/api/v1/reports/prepare", lambda route: route.abort())
        page.goto(f"{server.url}/report?lang=sw")
        _fill_named(page)
        page.locator("button[type=submit]").click()
        assert len(page.locator(".receipt").inner_text(timeout=30_000).strip()) == 19
        case = _latest_case(server)
        assert case.channel == "web"
        assert open_case(case, keyring.pairs["ke-unicef"]) == POSTED
    finally:
        page.context.close()


@pytest.mark.parametrize(
    ("setup", "field", "code"),
    [
        ({"#f-narrative": "   "}, "narrative", "narrative_required"),
        (
            {"#f-narrative": "Texte.", "#f-incident_date": "2999-01-01"},
            "incident_date",
            "date_in_future",
        ),
        ({"#f-narrative": "Texte.", "#f-victim-age": "131"}, "victim-age", "less_than_equal"),
        ({"#f-narrative": "Texte gardé."}, "reporter-name", "reporter_required"),
    ],
    ids=["narrative", "date", "age", "reporter"],
)
@pytest.mark.parametrize("lang", ["fr", "ar"])
def test_page_side_errors_speak_the_reporters_language(
    browser: Browser,
    server: ThreadedServer,
    lang: str,
    setup: dict[str, str],
    field: str,
    code: str,
) -> None:
    page, recorded = _page(browser)
    try:
        page.goto(f"{server.url}/report?lang={lang}")
        page.locator("form").evaluate("form => form.noValidate = true")  # reach the page's check
        page.get_by_role("radio").nth(2).check()  # named, without a name or contact
        page.locator("#f-category").select_option("other")
        page.locator("#f-country").select_option("KE")
        for selector, value in setup.items():
            page.locator(selector).fill(value)
        page.locator("button[type=submit]").click()
        alert = page.get_by_role("alert")
        alert.wait_for()
        expected = i18n.translations_for(lang).gettext(MESSAGES[code])
        assert expected in alert.inner_text()
        target = page.locator(f"#f-{field}")
        assert target.get_attribute("aria-invalid") == "true"
        described = target.get_attribute("aria-describedby") or ""
        assert f"e-{field}" in described.split()
        assert page.locator(f"#e-{field}").inner_text() == expected
        # Only the clear fields went out (prepare names their own errors); nothing was sent.
        posted = [r.url.split("/", 3)[-1] for r in recorded.requests if r.method == "POST"]
        assert posted == ["api/v1/reports/prepare"]
        assert page.locator("button[type=submit]").is_enabled()
    finally:
        page.context.close()
