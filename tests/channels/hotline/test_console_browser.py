"""The operator console in a real headless Chromium, JavaScript off: keyboard flow and axe.

Debian's Chromium (`command -v chromium`), never a downloaded browser; the
server is uvicorn in a thread on a free port with a fresh SQLite database.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page
from sqlalchemy import select
from testkit.browser import AXE_OPTIONS, ThreadedServer, chromium, routed_server
from testkit.cases import open_case
from testkit.databases import SqliteTemplates
from testkit.keys import Keyring

from channels.hotline.console import CONSENT_QUESTIONS, KEEP_IT_SAFE
from crypto.kdf import TEST_COST
from intake import i18n
from intake.db import transaction
from intake.i18n import translations_for
from intake.models import Case
from intake.staff.service import NewAccount, add_user

from .conftest import PASSWORD

pytestmark = pytest.mark.browser

# Tab from the first field: one stop per radio group, in the order of a call.
TAB_ORDER = [
    "language",
    "show_language",
    "reporter_type",
    "consent.contact_me",
    "consent.share_with_investigators",
    "consent.refer_to_services",
    "country",
    "category",
    "affiliation",
    "victim_is_child",
    "narrative",
]


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, _sqlite_templates: SqliteTemplates, keyring: Keyring
) -> Iterator[ThreadedServer]:
    folder = tmp_path_factory.mktemp("console")
    with routed_server(folder, _sqlite_templates, keyring) as live:
        with transaction(live.app.state.context.sessions) as session:
            account = NewAccount(username="op", role="operator", password=PASSWORD, country="KE")
            add_user(session, account, table=None, cost=TEST_COST)
        yield live


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(java_script_enabled=False)
    yield context.new_page()
    context.close()


def _focused(page: Page) -> str:
    return str(page.evaluate("document.activeElement.name || document.activeElement.textContent"))


def _axe_violations(page: Page) -> list[str]:
    # axe runs its own script in the page, so only this check enables JavaScript.
    results = Axe().run(page, options=AXE_OPTIONS)
    return [violation["id"] for violation in results.response["violations"]]


def _sign_in(page: Page, server: ThreadedServer, lang: str) -> None:
    page.goto(f"{server.url}/hotline/login?lang={lang}")
    assert _focused(page) == "username"
    page.keyboard.type("op")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.startswith(f"{server.url}/hotline?lang={lang}")


def test_a_call_by_keyboard_from_sign_in_to_the_next_call(
    page: Page, server: ThreadedServer, keyring: Keyring
) -> None:
    _sign_in(page, server, "en")
    seen = [_focused(page)]
    for _ in TAB_ORDER[1:]:
        page.keyboard.press("Tab")
        seen.append(_focused(page))
    assert seen == TAB_ORDER
    page.locator("#f-language").select_option("so")
    page.locator("input[name=reporter_type][value=anonymous]").check()
    page.locator("#f-consent-refer_to_services").check()
    page.locator("#f-category").select_option("sexual_exploitation")
    page.locator("#f-narrative").fill("Waxaa la iga codsaday galmo si aan cunto u helo.")
    page.locator("#f-call-duration_min").fill("4")
    with page.expect_navigation():
        page.locator("#call button[type=submit]:not([name])").click()
    assert page.locator(".hl-receipt").count() == 0  # shown only on request
    assert _focused(page) == "Show the receipt to read it aloud"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    groups = page.locator(".hl-receipt li").all_inner_texts()
    assert len(groups) == 4
    assert all(re.fullmatch(r"\d{4}", group) for group in groups)
    assert _focused(page) == "Next call"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert _focused(page) == "language"
    assert page.locator("#f-narrative").input_value() == ""
    with server.app.state.context.sessions() as session:
        case = session.scalars(select(Case).order_by(Case.id.desc()).limit(1)).one()
        recipient = case.recipient_ids[0]
    assert (case.channel, case.language, case.country) == ("hotline", "so", "KE")
    assert open_case(case, keyring.pairs[recipient])["call"]["duration_s"] == 240
    cookies = {cookie["name"]: cookie for cookie in page.context.cookies()}
    assert cookies["staff_session"]["httpOnly"]  # the one staff sign-in (plain http here)
    assert cookies["staff_session"]["sameSite"] == "Strict"
    assert cookies["staff_session"]["path"] == "/"


@pytest.fixture(scope="module")
def axe_pages(browser: Browser, server: ThreadedServer) -> Iterator[tuple[Page, Page]]:
    """A signed-out page and an operator's, signed in once for every language."""
    contexts = [browser.new_context(java_script_enabled=True) for _ in range(2)]
    anonymous, operator = (context.new_page() for context in contexts)
    _sign_in(operator, server, "en")
    yield anonymous, operator
    for context in contexts:
        context.close()


@pytest.mark.parametrize("lang", i18n.SHIPPED)
def test_the_console_pages_pass_axe(
    server: ThreadedServer, axe_pages: tuple[Page, Page], lang: str
) -> None:
    anonymous, page = axe_pages
    found: dict[str, list[str]] = {}
    anonymous.goto(f"{server.url}/hotline/login?lang={lang}")
    found["sign-in"] = _axe_violations(anonymous)
    page.goto(f"{server.url}/hotline?lang={lang}")
    assert page.locator("html").get_attribute("lang") == lang
    assert page.locator("html").get_attribute("dir") == i18n.direction(lang)
    found["call"] = _axe_violations(page)
    page.locator("input[name=reporter_type][value=anonymous]").check()
    page.locator("#f-category").select_option("other")
    page.locator("#f-narrative").fill("x")
    with page.expect_navigation():
        page.locator("#call button[type=submit]:not([name])").click()
    found["saved"] = _axe_violations(page)  # the saved page, before the receipt
    with page.expect_navigation():
        page.locator("main form button[type=submit]").last.click()
    assert page.locator(".hl-receipt").count() == 1
    found["receipt"] = _axe_violations(page)
    assert {name: ids for name, ids in found.items() if ids} == {}


def test_choosing_the_callers_language_shows_the_words_to_say_in_it(
    page: Page, server: ThreadedServer
) -> None:
    _sign_in(page, server, "en")
    assert page.locator(".hl-caller").count() == 0
    page.locator("#f-narrative").fill("Kept across the round trip.")
    page.locator("#f-language").select_option("ar")
    with page.expect_navigation():
        page.locator("button[name=show_language]").click()
    said = translations_for("ar").gettext
    blocks = page.locator("label .hl-caller")
    assert blocks.all_inner_texts() == [said(question) for _code, question in CONSENT_QUESTIONS]
    assert all(said(question) != question for _code, question in CONSENT_QUESTIONS)
    first = blocks.first
    assert first.get_attribute("lang") == "ar"
    assert first.evaluate("element => getComputedStyle(element).direction") == "rtl"
    assert page.locator("html").get_attribute("dir") == "ltr"  # the operator's page stays
    assert page.locator("#f-narrative").input_value() == "Kept across the round trip."
    assert page.locator("#f-language").input_value() == "ar"
    page.locator("input[name=reporter_type][value=anonymous]").check()
    page.locator("#f-category").select_option("other")
    with page.expect_navigation():
        page.locator("#call button[type=submit]:not([name])").click()
    with page.expect_navigation():
        page.locator("main form button[type=submit]").last.click()
    say = page.locator("p.hl-caller")
    assert say.inner_text() == said(KEEP_IT_SAFE)
    assert say.evaluate("element => getComputedStyle(element).direction") == "rtl"
