"""Safety on a shared phone (SPEC 14) in a real headless Chromium.

After sending, Back, Forward and reload bring back neither the account nor the
receipt and send nothing twice; the quick exit replaces the page in the
history (a click, or Escape twice); the error summary takes the focus and its
links move it to their fields; receipts read left to right in right-to-left
pages.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, Route
from playwright.sync_api import Error as PlaywrightError
from sqlalchemy import func, select
from testkit.browser import AXE_OPTIONS, ThreadedServer, chromium, routed_server
from testkit.databases import SqliteTemplates
from testkit.keys import Keyring

from intake import i18n
from intake.models import Case, CaseMessage

pytestmark = pytest.mark.browser

RECEIPT = re.compile(r"^\d{4} \d{4} \d{4} \d{4}$")
EXIT_URL = "https://www.google.com/"
NEUTRAL = "<!doctype html><title>Search</title><p>elsewhere</p>"


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, _sqlite_templates: SqliteTemplates, keyring: Keyring
) -> Iterator[ThreadedServer]:
    folder = tmp_path_factory.mktemp("browser-safety")
    with routed_server(folder, _sqlite_templates, keyring, report_limit="0") as live:
        yield live


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def _neutral_site(route: Route) -> None:
    """The neutral site, served here: the test machine has no way out."""
    route.fulfill(status=200, content_type="text/html", body=NEUTRAL)


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(java_script_enabled=True)
    context.route(f"{EXIT_URL}**", _neutral_site)
    yield context.new_page()
    context.close()


def _cases(server: ThreadedServer) -> int:
    with server.app.state.context.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Case)) or 0)


def _fill(page: Page, narrative: str, name: str) -> None:
    page.get_by_role("radio").nth(2).check()  # named
    page.locator("#f-reporter-name").fill(name)
    page.locator("#f-category").select_option("sexual_exploitation")
    page.locator("#f-country").select_option("KE")
    page.locator("#f-narrative").fill(narrative)


def _typed_anywhere(page: Page, *texts: str) -> bool:
    values = page.evaluate(
        """() => [...document.querySelectorAll("input, textarea")].map((e) => e.value)
            .concat([document.body ? document.body.innerText : ""])"""
    )
    return any(text in value for value in values for text in texts)


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_back_forward_and_reload_bring_back_nothing_and_send_nothing_twice(
    browser: Browser, server: ThreadedServer, javascript: bool
) -> None:
    context = browser.new_context(java_script_enabled=javascript)
    try:
        page = context.new_page()
        narrative = f"He kept our ration cards until we agreed {javascript}."
        name = "Amina Wanjiru"
        page.goto(f"{server.url}/report?lang=en")
        before = _cases(server)
        _fill(page, narrative, name)
        page.locator("button[type=submit]").click()
        page.wait_for_load_state()
        receipt = page.locator(".receipt").inner_text().strip()
        assert RECEIPT.match(receipt), receipt
        assert page.url.endswith("/report/received?lang=en")
        assert _cases(server) == before + 1

        page.reload()
        assert page.locator(".receipt").count() == 0
        assert not _typed_anywhere(page, receipt, narrative, name)

        page.go_back()
        page.wait_for_load_state()
        assert page.url.endswith("/report?lang=en")
        assert page.locator("#f-narrative").input_value() == ""
        assert page.locator("#f-reporter-name").input_value() == ""
        assert not _typed_anywhere(page, receipt, narrative, name)

        page.go_forward()
        page.wait_for_load_state()
        assert page.url.endswith("/report/received?lang=en")
        assert page.locator(".receipt").count() == 0
        assert not _typed_anywhere(page, receipt, narrative, name)

        page.go_back()
        page.wait_for_load_state()
        assert not _typed_anywhere(page, receipt, narrative, name)
        assert _cases(server) == before + 1  # no history step sent the report again
        assert [cookie["name"] for cookie in context.cookies()] == ["csrf"]
    finally:
        context.close()


def test_after_an_error_then_sending_back_shows_an_empty_form_and_sends_nothing(
    server: ThreadedServer, page: Page
) -> None:
    narrative = "The driver said he would take us only for sex."
    page.goto(f"{server.url}/report?lang=en")
    _fill(page, narrative, "Amina")
    page.locator("#f-country").select_option("")  # one problem first: a 422 page (a POST)
    page.locator("button[type=submit]").click()
    page.locator(".problems").wait_for()  # a page (no JS) or in the page (SPEC 11)
    assert page.locator(".problems").count() == 1
    assert page.locator("#f-narrative").input_value() == narrative  # kept for this round
    page.locator("#f-country").select_option("KE")
    before = _cases(server)
    page.locator("button[type=submit]").click()
    page.locator(".receipt").wait_for()
    assert RECEIPT.match(page.locator(".receipt").inner_text().strip())
    assert _cases(server) == before + 1
    page.go_back()  # to the error page's entry: now a plain GET of the form
    page.wait_for_load_state()
    assert page.url.endswith("/report?lang=en")
    assert page.locator(".problems").count() == 0
    assert page.locator("#f-narrative").input_value() == ""
    assert not _typed_anywhere(page, narrative, "Amina")
    page.reload()
    assert not _typed_anywhere(page, narrative, "Amina")
    assert _cases(server) == before + 1


def _report_then_follow_up(server: ThreadedServer, page: Page, narrative: str) -> str:
    """Send a report, then open its follow-up page with the receipt; the receipt."""
    page.goto(f"{server.url}/report?lang=en")
    _fill(page, narrative, "Amina")
    page.locator("button[type=submit]").click()
    page.wait_for_load_state()
    receipt = page.locator(".receipt").inner_text().strip()
    page.goto(f"{server.url}/followup?lang=en")
    page.locator("#f-receipt").fill(receipt)
    page.locator("button[type=submit]").click()
    page.wait_for_load_state()
    return receipt


def test_back_to_a_followup_answer_does_not_send_the_receipt_again(
    server: ThreadedServer, page: Page
) -> None:
    _report_then_follow_up(server, page, "For the follow-up test.")
    assert page.locator(".status").count() == 1
    page.goto(f"{server.url}/?lang=en")
    page.go_back()
    page.wait_for_load_state()
    assert page.url.endswith("/followup?lang=en")
    assert page.locator(".status").count() == 0  # the form again, not the answer
    assert page.locator("#f-receipt").input_value() == ""


def _replies(server: ThreadedServer) -> int:
    with server.app.state.context.sessions() as session:
        query = select(func.count()).select_from(CaseMessage)
        return int(session.scalar(query.where(CaseMessage.sender == "reporter")) or 0)


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_reply_is_sent_once_whatever_reload_back_and_forward_do(
    browser: Browser, server: ThreadedServer, javascript: bool
) -> None:
    context = browser.new_context(java_script_enabled=javascript)
    try:
        page = context.new_page()
        receipt = _report_then_follow_up(server, page, "For the reply test.")
        before = _replies(server)
        reply = f"He came back to the school today {javascript}."
        page.locator("#f-text").fill(reply)
        page.locator("#reply button[type=submit]").click()
        page.wait_for_load_state()
        assert page.url.endswith("/followup/sent?lang=en")
        assert reply in page.locator("main").inner_text()
        assert _replies(server) == before + 1
        page.reload()
        assert not _typed_anywhere(page, reply, receipt)
        if javascript:
            page.go_back()  # the lookup's POST entry, made a plain GET by forget-post.js
            page.wait_for_load_state()
            page.go_forward()
            page.wait_for_load_state()
            assert not _typed_anywhere(page, reply, receipt)
        else:
            # Without JavaScript the entry before is the lookup's POST (no-store): the
            # browser asks before sending that again; the reply's POST is not in the history.
            with pytest.raises(PlaywrightError, match="ERR_CACHE_MISS"):
                page.go_back()
        assert _replies(server) == before + 1  # nothing in the history sent it again
    finally:
        context.close()


def _history_length(page: Page) -> int:
    length: int = page.evaluate("() => history.length")
    return length


def test_the_quick_exit_replaces_the_page_in_the_history(
    server: ThreadedServer, page: Page
) -> None:
    page.goto(f"{server.url}/?lang=en")
    page.goto(f"{server.url}/report?lang=en")
    page.locator("#f-narrative").fill("Something I do not want seen.")
    before = _history_length(page)  # the new tab's blank page, home, the form
    page.locator("a.exit").click()
    page.wait_for_url(EXIT_URL)
    assert _history_length(page) == before  # replaced, not added
    page.go_back()
    page.wait_for_load_state()
    assert page.url == f"{server.url}/?lang=en"  # Back skips the form: it is gone
    assert not _typed_anywhere(page, "Something I do not want seen.")


def test_escape_pressed_twice_leaves_and_once_does_not(server: ThreadedServer, page: Page) -> None:
    page.goto(f"{server.url}/followup?lang=ar")
    page.locator("#f-receipt").fill("1234")
    before = _history_length(page)
    page.keyboard.press("Escape")
    page.keyboard.press("a")  # another key between two presses: not "twice"
    page.keyboard.press("Escape")
    assert page.url.startswith(server.url)
    assert page.evaluate("() => document.documentElement.hidden") is False
    page.keyboard.press("Escape")
    page.wait_for_url(EXIT_URL)
    assert _history_length(page) == before
    page.go_back()
    assert not page.url.startswith(server.url)  # Back goes to the blank page before it
    assert page.url == "about:blank"


def test_without_javascript_the_quick_exit_is_a_plain_link(
    browser: Browser, server: ThreadedServer
) -> None:
    context = browser.new_context(java_script_enabled=False)
    context.route(f"{EXIT_URL}**", _neutral_site)
    try:
        page = context.new_page()
        page.goto(f"{server.url}/report?lang=sw")
        page.locator("a.exit").click()
        page.wait_for_url(EXIT_URL)
        assert page.locator("p").inner_text() == "elsewhere"
    finally:
        context.close()


def test_staff_and_console_pages_have_no_quick_exit(server: ThreadedServer, page: Page) -> None:
    page.goto(f"{server.url}/staff/login?lang=en")
    assert page.locator("a.exit").count() == 0
    page.keyboard.press("Escape")
    page.keyboard.press("Escape")
    assert page.url.startswith(server.url)


def _active(page: Page) -> str:
    found: str = page.evaluate(
        "() => document.activeElement.id || document.activeElement.className"
    )
    return found


def _send_with_errors(page: Page, server: ThreadedServer, lang: str) -> None:
    page.goto(f"{server.url}/report?lang={lang}")
    page.locator("#f-reporter-name").fill("Amina")  # a name, but anonymous below
    page.get_by_role("radio").first.check()
    page.locator("#f-incident_date").fill("2999-01-01")  # and a date in the future
    page.locator("button[type=submit]").click()  # the form has no client checks
    page.locator(".problems").wait_for()  # a page (no JS) or in the page (SPEC 11)


def test_the_summary_takes_the_focus_and_its_links_move_it(
    server: ThreadedServer, page: Page
) -> None:
    _send_with_errors(page, server, "fr")
    summary = page.locator(".problems")
    assert summary.count() == 1
    assert _active(page) == "problems"
    hrefs = summary.locator("a").evaluate_all("links => links.map((a) => a.hash)")
    assert set(hrefs) == {"#f-reporter-name", "#f-category", "#f-country", "#f-incident_date",
                          "#f-narrative"}  # fmt: skip
    for href in hrefs:
        summary.locator(f'a[href="{href}"]').click()
        assert _active(page) == href[1:]
        page.locator(".problems").focus()
    before = page.url
    summary.locator("a").first.press("Enter")  # the keyboard too
    assert _active(page) == hrefs[0][1:]
    assert page.url.split("#")[0] == before.split("#")[0]


def test_a_group_link_focuses_the_groups_first_control(server: ThreadedServer, page: Page) -> None:
    page.goto(f"{server.url}/report?lang=en")
    page.locator("#f-narrative").fill("No choice of who reports.")
    page.locator("button[type=submit]").click()
    page.locator(".problems").wait_for()  # a page (no JS) or in the page (SPEC 11)
    page.locator('.problems a[href="#f-reporter_type"]').click()
    focused = page.evaluate("() => [document.activeElement.name, document.activeElement.value]")
    assert focused == ["reporter_type", "anonymous"]


def test_without_javascript_the_summary_still_takes_the_focus(
    browser: Browser, server: ThreadedServer
) -> None:
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        _send_with_errors(page, server, "en")
        assert _active(page) == "problems"
    finally:
        context.close()


@pytest.mark.parametrize("lang", ["ar", "ps", "fa"])
def test_receipts_read_left_to_right_in_right_to_left_pages(
    server: ThreadedServer, page: Page, lang: str
) -> None:
    page.goto(f"{server.url}/report?lang={lang}")
    assert page.locator("html").get_attribute("dir") == "rtl"
    page.get_by_role("radio").first.check()
    page.locator("#f-category").select_option("other")
    page.locator("#f-country").select_option("AF")
    page.locator("#f-narrative").fill("بدون نام")
    page.locator("button[type=submit]").click()
    page.wait_for_load_state()
    receipt = page.locator(".receipt bdi")
    assert RECEIPT.match(receipt.inner_text().strip())
    assert receipt.evaluate("e => getComputedStyle(e).direction") == "ltr"
    # The first group of digits is drawn left of the last one.
    first, last = receipt.evaluate(
        """(e) => {
            const text = e.firstChild, at = (start) => {
                const range = document.createRange();
                range.setStart(text, start); range.setEnd(text, start + 4);
                return range.getBoundingClientRect().left;
            };
            return [at(0), at(text.length - 4)];
        }"""
    )
    assert first < last
    page.goto(f"{server.url}/followup?lang={lang}")
    box = page.locator("#f-receipt")
    box.fill("1234 5678 9012 3456")
    assert box.evaluate("e => getComputedStyle(e).direction") == "ltr"
    assert box.get_attribute("dir") == "ltr"
    assert i18n.direction(lang) == "rtl"


@pytest.mark.parametrize("path", ["/", "/report/received"])
@pytest.mark.parametrize("lang", i18n.SHIPPED)
def test_axe_on_the_home_and_neutral_pages(
    server: ThreadedServer, page: Page, lang: str, path: str
) -> None:
    page.goto(f"{server.url}{path}?lang={lang}")
    results = Axe().run(page, options=AXE_OPTIONS)
    assert results.violations_count == 0, results.generate_report()


@pytest.mark.parametrize("lang", ["en", "ar", "my"])
def test_axe_on_the_error_summary(server: ThreadedServer, page: Page, lang: str) -> None:
    _send_with_errors(page, server, lang)
    results = Axe().run(page, options=AXE_OPTIONS)
    assert results.violations_count == 0, results.generate_report()
