"""A real headless Chromium against a real uvicorn server: submit, read the receipt, axe.

Uses `playwright.sync_api` directly (no pytest plugin) and Debian's Chromium
(`command -v chromium`); never downloads a browser. The server runs in a
thread on a free port, with a fresh SQLite database and the test routing table.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page
from sqlalchemy import select
from testkit.browser import AXE_OPTIONS, ThreadedServer, chromium, routed_server
from testkit.cases import open_case
from testkit.databases import SqliteTemplates
from testkit.keys import Keyring

from intake import i18n
from intake.models import Case

pytestmark = pytest.mark.browser

RECEIPT = re.compile(r"^\d{4} \d{4} \d{4} \d{4}$")


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, _sqlite_templates: SqliteTemplates, keyring: Keyring
) -> Iterator[ThreadedServer]:
    folder = tmp_path_factory.mktemp("browser")
    with routed_server(folder, _sqlite_templates, keyring, report_limit="0") as live:
        yield live


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(java_script_enabled=True)
    page = context.new_page()
    yield page
    context.close()


def _stored_case(server: ThreadedServer) -> Case:
    with server.app.state.context.sessions() as session:
        case: Case = session.scalars(select(Case).order_by(Case.id.desc()).limit(1)).one()
        _ = case.recipients
        return case


def _fill_and_send(page: Page, narrative: str) -> str:
    page.get_by_role("radio").nth(2).check()  # named
    page.locator("#f-reporter-name").fill("Amina")
    page.locator("#f-category").select_option("sexual_exploitation")
    page.locator("#f-country").select_option("KE")
    page.locator("#f-affiliation").select_option("UNICEF")
    page.locator("#f-incident_date").fill("2026-10-01")
    page.locator("#f-narrative").fill(narrative)
    page.locator("#f-consent-contact_me").check()
    page.locator("button[type=submit]").click()
    page.wait_for_load_state()
    return page.locator(".receipt").inner_text().strip()


@pytest.mark.parametrize(
    ("lang", "narrative"),
    [
        ("en", "He asked for sex before he would give us the food vouchers."),
        ("ar", "طلب مني موظف الإغاثة علاقة مقابل الطعام."),
    ],
)
def test_fill_send_and_read_the_receipt(
    server: ThreadedServer, page: Page, keyring: Keyring, lang: str, narrative: str
) -> None:
    page.goto(f"{server.url}/report?lang={lang}")
    html = page.locator("html")
    assert html.get_attribute("lang") == lang
    assert html.get_attribute("dir") == i18n.direction(lang)
    receipt = _fill_and_send(page, narrative)
    assert RECEIPT.match(receipt), receipt
    assert page.locator("h1").inner_text() == i18n.translations_for(lang).gettext(
        "Your report was received"
    )
    assert receipt.replace(" ", "") not in page.url
    case = _stored_case(server)
    assert case.channel == "web"  # with JavaScript the page sealed it (SPEC 11)
    assert case.language == lang
    content = open_case(case, keyring.pairs["ke-unicef"])
    assert content["narrative"] == narrative
    assert content["reporter"] == {"name": "Amina", "contact": None}
    cookies = page.context.cookies()
    assert [cookie["name"] for cookie in cookies] == ["csrf"]
    assert cookies[0]["httpOnly"]
    assert cookies[0]["sameSite"] == "Strict"
    page.goto(f"{server.url}/followup?lang={lang}")
    page.locator("#f-receipt").fill(receipt.replace(" ", "-"))
    page.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator(".status").inner_text() == i18n.translations_for(lang).gettext("Received")


def test_the_form_works_without_javascript(browser: Browser, server: ThreadedServer) -> None:
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(f"{server.url}/report?lang=sw")
        page.get_by_role("radio").first.check()
        page.locator("#f-category").select_option("sexual_abuse")
        page.locator("#f-country").select_option("SO")
        page.locator("#f-narrative").fill("Bila JavaScript.")
        page.locator("button[type=submit]").click()
        page.wait_for_load_state()
        assert RECEIPT.match(page.locator(".receipt").inner_text().strip())
    finally:
        context.close()


def test_errors_are_announced_and_linked_to_their_field(server: ThreadedServer, page: Page) -> None:
    page.goto(f"{server.url}/report?lang=fr")
    page.locator("form").evaluate("form => form.noValidate = true")  # reach the server check
    page.get_by_role("radio").nth(2).check()  # named, without a name or contact
    page.locator("#f-category").select_option("other")
    page.locator("#f-country").select_option("KE")
    page.locator("#f-narrative").fill("Texte gardé.")
    page.locator("button[type=submit]").click()
    page.wait_for_load_state()
    alert = page.get_by_role("alert")
    alert.wait_for()  # with JavaScript the page checks the sealed fields itself
    assert alert.count() == 1
    name = page.locator("#f-reporter-name")
    assert name.get_attribute("aria-invalid") == "true"
    message_id = name.get_attribute("aria-describedby")
    assert message_id
    assert page.locator(f"#{message_id}").inner_text() in alert.inner_text()
    assert page.locator("#f-narrative").input_value() == "Texte gardé."


@pytest.mark.parametrize("path", ["/report", "/followup"])
@pytest.mark.parametrize("lang", i18n.SHIPPED)
def test_axe_finds_no_wcag_a_or_aa_violation(
    server: ThreadedServer, page: Page, lang: str, path: str, tmp_path: Path
) -> None:
    page.goto(f"{server.url}{path}?lang={lang}")
    results = Axe().run(page, options=AXE_OPTIONS)
    if results.violations_count:
        (tmp_path / "axe.json").write_text(json.dumps(results.response, indent=1), "utf-8")
    assert results.violations_count == 0, results.generate_report()


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_axe_on_the_error_and_receipt_pages(server: ThreadedServer, page: Page, lang: str) -> None:
    page.goto(f"{server.url}/followup?lang={lang}")
    page.locator("#f-receipt").fill("1111 2222 3333 4444")
    page.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert Axe().run(page, options=AXE_OPTIONS).violations_count == 0
    page.goto(f"{server.url}/report?lang={lang}")
    _fill_and_send(page, "Axe check.")
    results = Axe().run(page, options=AXE_OPTIONS)
    assert results.violations_count == 0, results.generate_report()


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_the_reporter_answers_at_follow_up(server: ThreadedServer, page: Page, lang: str) -> None:
    """The reply form in Chromium (it needs no script: axe runs with it), axe-clean."""
    page.goto(f"{server.url}/report?lang={lang}")
    receipt = _fill_and_send(page, "Reply flow.")
    page.goto(f"{server.url}/followup?lang={lang}")
    page.locator("#f-receipt").fill(receipt)
    page.locator("#followup button[type=submit]").click()
    page.wait_for_load_state()
    assert Axe().run(page, options=AXE_OPTIONS).violations_count == 0
    page.locator("#f-text").fill("I remembered the day: Tuesday.")
    page.locator("#reply button[type=submit]").click()
    page.wait_for_load_state()
    sent = i18n.translations_for(lang).gettext(
        "Your message was sent safely to the people who handle your report."
    )
    assert page.locator(".done").inner_text() == sent
    assert page.locator(".messages li.mine .text").inner_text() == "I remembered the day: Tuesday."
    assert receipt not in page.content()
    results = Axe().run(page, options=AXE_OPTIONS)
    assert results.violations_count == 0, results.generate_report()
