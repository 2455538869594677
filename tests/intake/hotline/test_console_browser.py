"""The operator console in a real headless Chromium, JavaScript off: keyboard flow and axe.

Debian's Chromium (`command -v chromium`), never a downloaded browser; the
server is uvicorn in a thread on a free port with a fresh SQLite database.
"""

from __future__ import annotations

import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, sync_playwright
from sqlalchemy import select
from testkit.databases import SqliteTemplates
from testkit.keys import Keyring, routing_table_toml

from crypto.kdf import TEST_COST
from intake.app import create_app
from intake.db import make_engine, make_sessionmaker, transaction
from intake.models import Case
from intake.routing_store import store_table
from intake.settings import Settings
from intake.staff.service import NewAccount, add_user

from .conftest import PASSWORD

pytestmark = pytest.mark.browser

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
]
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa"]}}
# Tab from the first field: one stop per radio group, in the order of a call.
TAB_ORDER = [
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
]


class Server:
    """uvicorn serving the app in a thread, on a socket bound before it starts."""

    def __init__(self, settings: Settings) -> None:
        self.app = create_app(settings, receipt_cost=TEST_COST)
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        config = uvicorn.Config(self.app, log_config=None, access_log=False, lifespan="on")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    def __enter__(self) -> Server:
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        with transaction(self.app.state.context.sessions) as session:
            account = NewAccount(username="op", role="operator", password=PASSWORD, country="KE")
            add_user(session, account, table=None, cost=TEST_COST)
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=20)
        self._socket.close()


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, _sqlite_templates: SqliteTemplates, keyring: Keyring
) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("console")
    with _sqlite_templates.fresh(folder / "db") as url:
        engine = make_engine(url)
        try:
            with transaction(make_sessionmaker(engine)) as session:
                store_table(session, routing_table_toml(keyring), loaded_by="tests")
        finally:
            engine.dispose()
        with Server(Settings(data_dir=folder / "var", database_url=url)) as live:
            yield live


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Chromium is not installed (apt-get install -y chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


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


def _sign_in(page: Page, server: Server, lang: str) -> None:
    page.goto(f"{server.url}/hotline/login?lang={lang}")
    assert _focused(page) == "username"
    page.keyboard.type("op")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.startswith(f"{server.url}/hotline?lang={lang}")


def test_a_call_by_keyboard_from_sign_in_to_the_next_call(page: Page, server: Server) -> None:
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
        page.locator("#call button[type=submit]").click()
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
    assert (case.channel, case.language, case.country, case.call_duration_s) == (
        "hotline",
        "so",
        "KE",
        240,
    )
    cookies = {cookie["name"]: cookie for cookie in page.context.cookies()}
    assert cookies["hotline_session"]["httpOnly"]
    assert cookies["hotline_session"]["sameSite"] == "Strict"
    assert cookies["hotline_session"]["path"] == "/hotline"


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_the_console_pages_pass_axe(browser: Browser, server: Server, lang: str) -> None:
    context = browser.new_context(java_script_enabled=True)
    try:
        page = context.new_page()
        page.goto(f"{server.url}/hotline/login?lang={lang}")
        assert _axe_violations(page) == []
        _sign_in(page, server, lang)
        assert _axe_violations(page) == []
        page.locator("input[name=reporter_type][value=anonymous]").check()
        page.locator("#f-category").select_option("other")
        page.locator("#f-narrative").fill("x")
        with page.expect_navigation():
            page.locator("#call button[type=submit]").click()
        assert page.locator(".hl-receipt").count() == 1
        assert _axe_violations(page) == []
    finally:
        context.close()
