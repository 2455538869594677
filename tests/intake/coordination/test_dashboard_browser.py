"""/dashboard in a real Chromium: axe-core's wcag2a and wcag2aa rules, left to right and right
to left, with every part of the page drawn (overdue list, breakdowns, hours, chart)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page
from testkit.browser import AXE_OPTIONS, ThreadedServer, chromium, routed_server
from testkit.cases import stored_case
from testkit.databases import SqliteTemplates
from testkit.keys import Keyring

from crypto.kdf import TEST_COST
from intake.db import transaction
from intake.models import utcnow
from intake.staff.service import NewAccount, add_user

pytestmark = pytest.mark.browser
PASSWORD = "a long staff passphrase"


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, _sqlite_templates: SqliteTemplates, keyring: Keyring
) -> Iterator[ThreadedServer]:
    folder = tmp_path_factory.mktemp("dashboard")
    with routed_server(folder, _sqlite_templates, keyring) as live:
        now = utcnow()
        with transaction(live.app.state.context.sessions) as session:
            table = live.app.state.context.routing.active(session).table
            account = NewAccount(
                username="wanjiru", role="coordinator", password=PASSWORD, country="KE"
            )
            add_user(session, account, table=table, cost=TEST_COST)
            for hours in range(1, 9):  # enough cases for printed counts and hours
                at = now - timedelta(days=hours)
                stored_case(
                    session,
                    received_at=at,
                    status="acknowledged",
                    acknowledged_at=at + timedelta(hours=hours),
                )
            stored_case(session, received_at=now - timedelta(hours=30), category="other")  # overdue
        yield live


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def _axe(page: Page) -> list[str]:
    results = Axe().run(page, options=AXE_OPTIONS)
    return [violation["id"] for violation in results.response["violations"]]


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_the_dashboard_passes_axe(server: ThreadedServer, browser: Browser, lang: str) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{server.url}/staff/login?lang={lang}")
    page.fill("#f-username", "wanjiru")
    page.fill("#f-password", PASSWORD)
    with page.expect_navigation():
        page.click("form[action^='/staff/login'] button[type=submit]")
    assert page.url.startswith(f"{server.url}/dashboard?lang={lang}")
    assert page.locator("svg.st-chart rect").count() >= 1
    assert page.locator("table").count() == 7  # overdue, 4 breakdowns, hours, months
    assert page.locator("html").get_attribute("dir") == ("rtl" if lang == "ar" else "ltr")
    assert _axe(page) == [], "/dashboard"
    page.goto(f"{server.url}/dashboard?lang={lang}&from=2026-02-30")
    assert _axe(page) == [], "/dashboard with a bad date"
    context.close()
