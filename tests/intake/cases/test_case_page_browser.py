"""The staff pages in a real headless Chromium: the whole inbox flow with its secrets
watched on the wire and in storage, the key page, and axe in English and Arabic.

Debian's Chromium (`command -v chromium`), never a downloaded browser; the server is
uvicorn in a thread with a fresh SQLite database (plain http: cookie `staff_session`).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page, Request, expect
from sqlalchemy import select
from testkit.browser import AXE_OPTIONS, ThreadedServer, chromium, routed_server
from testkit.cases import case_by_ref, report
from testkit.databases import SqliteTemplates
from testkit.keys import Keyring

from crypto.envelope import case_aad, open_envelope
from crypto.kdf import TEST_COST
from crypto.keys import read_private_key_file, write_private_key_file
from crypto.receipt import open_with_keypair
from intake.db import transaction
from intake.models import CaseMessage
from intake.reports.receipts import derive_for
from intake.staff.service import NewAccount, add_user

pytestmark = pytest.mark.browser

PASSWORD = "a long staff passphrase"
PASSPHRASE = "key-file passphrase 7Hq"
NARRATIVE = "Canary-NARR-31: the storekeeper demanded sex for the ration card."
LOCATION = "Canary-LOC-31 warehouse"
REPLY = "Canary-REPLY-31: we have your report and will call the number you gave."


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, _sqlite_templates: SqliteTemplates, keyring: Keyring
) -> Iterator[ThreadedServer]:
    folder = tmp_path_factory.mktemp("inbox")
    with routed_server(folder, _sqlite_templates, keyring) as live:
        context = live.app.state.context
        with transaction(context.sessions) as session:
            table = context.routing.active(session).table
            account = NewAccount(
                username="amina", role="focal_point", password=PASSWORD, focal_point_id="ke-unicef"
            )
            add_user(session, account, table=table, cost=TEST_COST)
        yield live


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    opened = browser.new_context(java_script_enabled=True, accept_downloads=True)
    yield opened
    opened.close()


def _file_report(server: ThreadedServer) -> tuple[str, str]:
    body = report(
        reporter_type="named",
        narrative=NARRATIVE,
        location=LOCATION,
        incident_date="2026-11-01",
        reporter={"name": "Halima", "contact": "by the clinic"},
        victim={"name": "Sara", "age": 15, "sex": "female"},
    )
    response = httpx.post(f"{server.url}/api/v1/reports", json=body, timeout=30)
    assert response.status_code == 201, response.text
    return response.json()["case_ref"], response.json()["receipt"]


def _sign_in(page: Page, server: ThreadedServer, lang: str = "en") -> None:
    page.goto(f"{server.url}/staff/login?lang={lang}")
    page.fill("#f-username", "amina")
    page.fill("#f-password", PASSWORD)
    with page.expect_navigation():
        page.click("form[action^='/staff/login'] button[type=submit]")
    assert page.url.startswith(f"{server.url}/inbox?lang={lang}")


def _axe(page: Page) -> list[str]:
    results = Axe().run(page, options=AXE_OPTIONS)
    return [violation["id"] for violation in results.response["violations"]]


def test_the_whole_flow_keeps_the_key_and_the_report_in_the_page(
    server: ThreadedServer, context: BrowserContext, keyring: Keyring, tmp_path: Path
) -> None:
    case_ref, receipt = _file_report(server)
    key_path = tmp_path / "ke-unicef.key"
    write_private_key_file(key_path, keyring.pairs["ke-unicef"], PASSPHRASE, cost=TEST_COST)
    private_b64 = base64.b64encode(keyring.pairs["ke-unicef"].private_key).decode()
    box = json.loads(key_path.read_text())["box"]
    sent: list[str] = []
    errors: list[str] = []
    page = context.new_page()

    def watch(request: Request) -> None:
        sent.append(" ".join([request.url, json.dumps(request.headers), request.post_data or ""]))

    page.on("request", watch)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    _sign_in(page, server)
    with page.expect_navigation():
        page.click(f"a[href^='/inbox/cases/{case_ref}']")
    assert page.locator("#js-needed").is_hidden()
    assert "opens on this device only" in page.locator("#open-form").inner_text()
    page.set_input_files("#f-keyfile", str(key_path))
    page.fill("#f-passphrase", PASSPHRASE)
    page.click("#open-form button[type=submit]")
    page.wait_for_selector("#content:not([hidden])")
    assert page.locator("[data-field=narrative]").inner_text() == NARRATIVE
    assert page.locator("[data-field=location]").inner_text() == LOCATION
    assert page.locator("[data-field='victim.sex']").inner_text() == "Female"
    assert page.locator("#f-passphrase").input_value() == ""
    assert page.locator("#sms-note").is_hidden()  # a web report: the reply goes sealed only

    page.fill("#f-reply", REPLY)
    page.click("#reply-form button[type=submit]")
    expect(page.locator("#reply-status")).to_have_text("Sent.")
    assert page.locator("[data-message-text]").first.inner_text() == REPLY
    page.select_option("#f-focal-point", "ke-wfp")
    page.click("#grant-form button[type=submit]")
    expect(page.locator("#grant-status")).to_have_text("Access granted.")
    storage = page.evaluate(
        "async () => [localStorage.length, sessionStorage.length,"
        " (await indexedDB.databases()).length]"
    )
    assert storage == [0, 0, 0]

    page.select_option("#f-event", "acknowledged")
    with page.expect_navigation():
        page.click("#event-form button[type=submit]")
    assert page.locator("#content").is_hidden()  # a new page: the key went with the old one
    assert NARRATIVE not in page.content()
    assert "Acknowledged" in page.locator("#events").inner_text()
    cookies = context.cookies()
    assert {cookie["name"] for cookie in cookies} == {"staff_session", "csrf"}
    with page.expect_navigation():
        page.click(".st-signout button")
    assert page.url.startswith(f"{server.url}/staff/login")
    assert {cookie["name"] for cookie in context.cookies()} == {"csrf"}

    wire = "\n".join(sent)
    for secret in (NARRATIVE, LOCATION, "Canary-", REPLY, PASSPHRASE, private_b64, box, receipt):
        assert secret not in wire
    assert all(secret not in json.dumps(cookies) for secret in (NARRATIVE, PASSPHRASE))
    assert errors == []
    _check_stored(server, keyring, case_ref, receipt)


def _check_stored(server: ThreadedServer, keyring: Keyring, case_ref: str, receipt: str) -> None:
    context = server.app.state.context
    with context.sessions() as session:
        case = case_by_ref(session, case_ref)
        (message,) = session.scalars(select(CaseMessage).where(CaseMessage.case_id == case.id))
        envelope = json.loads(case.envelope)
        status, recipients = case.status, case.recipient_ids
    assert status == "acknowledged"
    assert "ke-wfp" in recipients
    opened = open_envelope(
        envelope, private_key=keyring.pairs["ke-wfp"].private_key, aad=case_aad(case_ref)
    )
    assert opened["narrative"] == NARRATIVE  # the grant re-sealed the data key in the page
    reporter = derive_for(context, receipt).keypair
    assert open_with_keypair(message.sealed_for_reporter, reporter) == REPLY
    for holder in ("ke-unicef", "ke-coordinator", "escrow"):
        staff_copy = open_envelope(
            json.loads(message.envelope),
            private_key=keyring.pairs[holder].private_key,
            aad=case_aad(case_ref),
        )
        assert staff_copy == {"text": REPLY}


def test_a_wrong_passphrase_opens_nothing(
    server: ThreadedServer, context: BrowserContext, keyring: Keyring, tmp_path: Path
) -> None:
    case_ref, _receipt = _file_report(server)
    key_path = tmp_path / "ke-unicef.key"
    write_private_key_file(key_path, keyring.pairs["ke-unicef"], PASSPHRASE, cost=TEST_COST)
    page = context.new_page()
    _sign_in(page, server)
    page.goto(f"{server.url}/inbox/cases/{case_ref}")
    page.set_input_files("#f-keyfile", str(key_path))
    page.fill("#f-passphrase", PASSPHRASE + "x")
    page.click("#open-form button[type=submit]")
    expect(page.locator("#open-status")).to_contain_text("wrong")
    assert page.locator("#content").is_hidden()


def test_the_key_page_makes_a_key_file_that_python_opens(
    server: ThreadedServer, context: BrowserContext, tmp_path: Path
) -> None:
    page = context.new_page()
    sent: list[str] = []
    page.on("request", lambda r: sent.append(f"{r.url} {r.post_data or ''}"))
    page.goto(f"{server.url}/staff/keys")
    page.fill("#f-pass1", "short")
    page.fill("#f-pass2", "short")
    page.click("#keys-form button[type=submit]")
    expect(page.locator("#keys-status")).to_contain_text("at least 8")
    page.fill("#f-pass1", PASSPHRASE)
    page.fill("#f-pass2", PASSPHRASE + "!")
    page.click("#keys-form button[type=submit]")
    expect(page.locator("#keys-status")).to_contain_text("differ")
    page.fill("#f-pass2", PASSPHRASE)
    page.click("#keys-form button[type=submit]")
    page.wait_for_selector("#keys-result:not([hidden])", timeout=60_000)
    with page.expect_download() as download_info:
        page.click("#keys-download")
    path = tmp_path / "made.key"
    download_info.value.save_as(path)
    pair = read_private_key_file(path, PASSPHRASE)
    assert page.locator("#keys-kid").inner_text() == pair.kid
    assert page.locator("#keys-public").inner_text() == base64.b64encode(pair.public_key).decode()
    assert all(PASSPHRASE not in line and "POST" not in line for line in sent)
    assert all(not line.startswith(f"{server.url}/api") for line in sent)


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_the_staff_pages_pass_axe(
    server: ThreadedServer, context: BrowserContext, lang: str
) -> None:
    case_ref, _receipt = _file_report(server)
    page = context.new_page()
    for path in ("/staff/login", "/staff/keys"):
        page.goto(f"{server.url}{path}?lang={lang}")
        assert _axe(page) == [], path
    _sign_in(page, server, lang)
    assert _axe(page) == [], "/inbox"
    page.goto(f"{server.url}/inbox/cases/{case_ref}?lang={lang}")
    assert page.locator("html").get_attribute("dir") == ("rtl" if lang == "ar" else "ltr")
    assert _axe(page) == [], "/inbox/cases"
    page.goto(f"{server.url}/inbox/cases/C-NOSUCHCASE00?lang={lang}")
    assert _axe(page) == [], "not found"


def _open(page: Page, server: ThreadedServer, keyring: Keyring, tmp_path: Path) -> None:
    case_ref, _receipt = _file_report(server)
    key_path = tmp_path / "ke-unicef.key"
    write_private_key_file(key_path, keyring.pairs["ke-unicef"], PASSPHRASE, cost=TEST_COST)
    page.goto(f"{server.url}/inbox/cases/{case_ref}")
    page.set_input_files("#f-keyfile", str(key_path))
    page.fill("#f-passphrase", PASSPHRASE)
    page.click("#open-form button[type=submit]")
    expect(page.locator("[data-field=narrative]")).to_have_text(NARRATIVE)


def test_the_report_is_dropped_when_the_page_is_left(
    server: ThreadedServer, context: BrowserContext, keyring: Keyring, tmp_path: Path
) -> None:
    page = context.new_page()
    _sign_in(page, server)
    _open(page, server, keyring, tmp_path)
    page.goto(f"{server.url}/inbox")
    page.go_back()  # from the back/forward cache when Chromium kept it: pagehide ran
    expect(page.locator("#open-form")).to_be_visible()
    assert page.locator("#content").is_hidden()
    assert page.locator("[data-field=narrative]").inner_text() == ""


def test_the_report_is_dropped_at_the_idle_timeout(
    server: ThreadedServer, context: BrowserContext, keyring: Keyring, tmp_path: Path
) -> None:
    page = context.new_page()
    page.clock.install()
    _sign_in(page, server)
    _open(page, server, keyring, tmp_path)
    idle = server.app.state.context.settings.staff_idle_minutes
    with page.expect_navigation():
        page.clock.run_for(idle * 60 * 1000 + 1000)
    # The page left for the sign-in; the server's clock did not move, so the live
    # session lands it back on the inbox. Either way the case page is gone.
    assert "/inbox/cases/" not in page.url
    assert NARRATIVE not in page.content()


REPORTER_REPLY = "Canary-REPORTER-31: he came back to the clinic; I am afraid."


def test_the_case_page_shows_the_reporters_reply_opened_in_the_page(
    server: ThreadedServer, context: BrowserContext, keyring: Keyring, tmp_path: Path
) -> None:
    case_ref, receipt = _file_report(server)
    answer = httpx.post(
        f"{server.url}/api/v1/followup/messages",
        json={"receipt": receipt, "text": REPORTER_REPLY},
        timeout=30,
    )
    assert answer.status_code == 201, answer.text
    key_path = tmp_path / "ke-unicef.key"
    write_private_key_file(key_path, keyring.pairs["ke-unicef"], PASSPHRASE, cost=TEST_COST)
    sent: list[str] = []
    errors: list[str] = []
    page = context.new_page()
    page.on("request", lambda r: sent.append(f"{r.url} {r.post_data or ''}"))
    page.on("pageerror", lambda e: errors.append(str(e)))
    _sign_in(page, server)
    row = page.locator(f"li:has(a[href^='/inbox/cases/{case_ref}'])")
    expect(row.locator("[data-new-reply]")).to_have_text("New reply from the reporter")
    with page.expect_navigation():
        page.click(f"a[href^='/inbox/cases/{case_ref}']")
    mine = page.locator("[data-from=reporter]")
    expect(mine.locator(".st-from")).to_have_text("From the reporter")
    assert REPORTER_REPLY not in page.content()  # the server sent it sealed only
    page.set_input_files("#f-keyfile", str(key_path))
    page.fill("#f-passphrase", PASSPHRASE)
    page.click("#open-form button[type=submit]")
    expect(mine.locator("[data-message-text]")).to_have_text(REPORTER_REPLY)
    page.goto(f"{server.url}/inbox")
    expect(page.locator(f"li:has(a[href^='/inbox/cases/{case_ref}'])")).to_be_visible()
    assert page.locator(f"li:has(a[href^='/inbox/cases/{case_ref}']) [data-new-reply]").count() == 0
    assert all(REPORTER_REPLY not in line for line in sent)
    assert errors == []
