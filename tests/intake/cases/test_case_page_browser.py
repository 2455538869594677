"""The staff pages in a real headless Chromium: the whole inbox flow with its secrets
watched on the wire and in storage, a voice case's recording played in the page, the
key page, and axe in every shipped language.

Debian's Chromium (`command -v chromium`), never a downloaded browser; the server is
uvicorn in a thread with a fresh SQLite database (plain http: cookie `staff_session`).
"""

from __future__ import annotations

import base64
import io
import json
import logging
import secrets
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page, Request, expect
from sqlalchemy import select
from testkit.browser import AXE_OPTIONS, ThreadedServer, chromium, routed_server
from testkit.cases import case_by_ref, report
from testkit.clock import Clock
from testkit.databases import SqliteTemplates
from testkit.fake_twilio import FakeTwilio
from testkit.keys import Keyring
from testkit.outbox import TWILIO_SID
from testkit.sms import TOKEN
from testkit.voice import new_call_sid, new_recording_sid

from channels.voice.outbound import FETCH_KIND, VoiceKinds, fetch_payload
from crypto.envelope import case_aad, open_envelope
from crypto.kdf import TEST_COST
from crypto.keys import (
    generate_keypair,
    public_key_b64,
    read_private_key_file,
    write_private_key_file,
)
from crypto.receipt import open_with_keypair
from intake import i18n
from intake.cases.retention import shred_case
from intake.db import transaction
from intake.models import CaseAttachment, CaseEvent, CaseMessage, utcnow
from intake.outbox.enqueue import enqueue
from intake.reports.receipts import derive_for
from intake.staff.service import NewAccount, add_user
from intake.vocab import AUDIO
from intake.worker.run import Worker

pytestmark = pytest.mark.browser

PASSWORD = "a long staff passphrase"
PASSPHRASE = "key-file passphrase 7Hq"
NARRATIVE = "Canary-NARR-31: the storekeeper demanded sex for the ration card."
LOCATION = "Canary-LOC-31 warehouse"
REPLY = "Canary-REPLY-31: we have your report and will call the number you gave."
# ke-wfp is in the middle of a key rotation: the table lists its old and its new key.
NEW_WFP_KEY = generate_keypair()


@pytest.fixture(scope="module")
def fake_twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio(TWILIO_SID, TOKEN) as fake:
        yield fake


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory,
    _sqlite_templates: SqliteTemplates,
    keyring: Keyring,
    fake_twilio: FakeTwilio,
) -> Iterator[ThreadedServer]:
    folder = tmp_path_factory.mktemp("inbox")
    with routed_server(
        folder,
        _sqlite_templates,
        keyring,
        more_keys={"ke-wfp": [public_key_b64(NEW_WFP_KEY.public_key)]},
        twilio_account_sid=TWILIO_SID,
        twilio_auth_token=TOKEN,
        twilio_api_base=fake_twilio.base_url,
    ) as live:
        context = live.app.state.context
        with transaction(context.sessions) as session:
            table = context.routing.active(session).table
            account = NewAccount(
                username="amina", role="focal_point", password=PASSWORD, focal_point_id="ke-unicef"
            )
            add_user(session, account, table=table, cost=TEST_COST)
            coordinator = NewAccount(
                username="joseph", role="coordinator", password=PASSWORD, country="KE"
            )
            add_user(session, coordinator, table=table, cost=TEST_COST)
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


def _sign_in(page: Page, server: ThreadedServer, lang: str = "en", user: str = "amina") -> None:
    page.goto(f"{server.url}/staff/login?lang={lang}")
    page.fill("#f-username", user)
    page.fill("#f-password", PASSWORD)
    with page.expect_navigation():
        page.click("form[action^='/staff/login'] button[type=submit]")
    landing = "/inbox" if user == "amina" else "/dashboard"  # a coordinator lands there
    assert page.url.startswith(f"{server.url}{landing}?lang={lang}")


def _axe(page: Page) -> list[str]:
    """Each violation's rule and the first elements it names (enough to find it)."""
    results = Axe().run(page, options=AXE_OPTIONS)
    return [
        f"{violation['id']}: {[node['target'] for node in violation['nodes'][:3]]}"
        for violation in results.response["violations"]
    ]


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
    for wfp_key in (keyring.pairs["ke-wfp"].private_key, NEW_WFP_KEY.private_key):
        # the grant re-sealed the data key in the page, to each of ke-wfp's keys
        opened = open_envelope(envelope, private_key=wfp_key, aad=case_aad(case_ref))
        assert opened["narrative"] == NARRATIVE
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


# --- a voice case's recording, played in the page ---------------------------------------

AUDIO_LOADED = """(audio) => new Promise((resolve) => {
  const done = () => resolve({ src: audio.src, duration: audio.duration, ready: audio.readyState });
  if (audio.readyState >= 1) done();
  audio.addEventListener("loadedmetadata", done, { once: true });
  audio.addEventListener("error", () => resolve({ src: audio.src, error: audio.error.code }));
})"""
# Whether a blob: URL still loads. A media element probes it: the page's CSP allows
# blob: for media only (fetch() of a blob: URL is refused by connect-src 'self').
BLOB_LOADS = """(url) => new Promise((resolve) => {
  const probe = new Audio();
  probe.addEventListener("loadedmetadata", () => resolve(true), { once: true });
  probe.addEventListener("error", () => resolve(false), { once: true });
  probe.src = url;
})"""


def noisy_wav(seconds: float = 1.0) -> bytes:
    """A real WAV file (8 kHz, 16-bit mono, as Twilio records) of random samples:
    bytes that cannot turn up anywhere by chance, unlike silence."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(8000)
        audio.writeframes(secrets.token_bytes(2 * int(8000 * seconds)))
    return buffer.getvalue()


def _voice_case(server: ThreadedServer, fake: FakeTwilio, audio: bytes) -> str:
    """A case whose recording the real worker fetched from the fake Twilio and sealed,
    queued exactly as the voice channel queues it when a call's recording ends."""
    case_ref, _receipt = _file_report(server)
    context = server.app.state.context
    recording_sid, call_sid = new_recording_sid(), new_call_sid()
    fake.add_recording(recording_sid, audio, call_sid=call_sid)
    with transaction(context.sessions) as session:
        case = case_by_ref(session, case_ref)
        case.channel = "voice"
        attachment = CaseAttachment(case_id=case.id, kind=AUDIO, status="pending")
        session.add(attachment)
        session.flush()
        payload = fetch_payload(
            context.secret, attachment.id, call_sid=call_sid, recording_sid=recording_sid
        )
        enqueue(session, FETCH_KIND, payload, dedupe_key=f"{FETCH_KIND}:{attachment.id}")
    worker = Worker(
        context, handlers={FETCH_KIND: VoiceKinds(context).fetch_recording}, clock=Clock()
    )
    assert worker.run_once().sent == 1
    return case_ref


def _open_case(page: Page, server: ThreadedServer, case_ref: str, key_path: Path) -> None:
    page.goto(f"{server.url}/inbox/cases/{case_ref}")
    page.set_input_files("#f-keyfile", str(key_path))
    page.fill("#f-passphrase", PASSPHRASE)
    page.click("#open-form button[type=submit]")
    page.wait_for_selector("#content:not([hidden])")


def _key_file(keyring: Keyring, tmp_path: Path) -> Path:
    key_path = tmp_path / "ke-unicef.key"
    write_private_key_file(key_path, keyring.pairs["ke-unicef"], PASSPHRASE, cost=TEST_COST)
    return key_path


def _playing(page: Page) -> str:
    """The recording's blob: URL, once the audio element has decoded its metadata."""
    audio = page.wait_for_selector("#recording audio[controls]")
    assert audio is not None
    loaded = audio.evaluate(AUDIO_LOADED)
    assert "error" not in loaded, loaded
    assert loaded["src"].startswith(f"blob:{page.url.split('/inbox')[0]}/"), loaded
    assert loaded["duration"] > 0.5, loaded  # one second of audio, decoded
    assert loaded["ready"] >= 1, loaded
    assert page.evaluate(BLOB_LOADS, loaded["src"]) is True
    return str(loaded["src"])


def _dropped(page: Page, url: str) -> None:
    assert page.locator("#recording audio").count() == 0
    assert page.locator("#recording").is_hidden()
    assert page.evaluate(BLOB_LOADS, url) is False  # revoked


def test_a_voice_case_plays_its_recording_in_the_page_and_forgets_it(
    server: ThreadedServer,
    context: BrowserContext,
    fake_twilio: FakeTwilio,
    keyring: Keyring,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    audio = noisy_wav()
    canaries = [base64.b64encode(audio[100:400]).decode(), audio[100:400].hex()]
    case_ref = _voice_case(server, fake_twilio, audio)
    page = context.new_page()
    seen: list[str] = []
    page.on("request", lambda r: seen.append(f"{r.url} {r.post_data or ''}"))
    page.on("console", lambda m: seen.append(m.text))
    page.on("pageerror", lambda e: seen.append(f"pageerror {e}"))
    key_path = _key_file(keyring, tmp_path)
    _sign_in(page, server)
    _open_case(page, server, case_ref, key_path)
    url = _playing(page)
    assert _axe(page) == [], "the opened voice case"
    page.click("#forget")
    _dropped(page, url)

    _open_case(page, server, case_ref, key_path)
    url = _playing(page)
    page.goto(f"{server.url}/inbox")
    page.go_back()  # pagehide ran; from the back/forward cache or a new document
    expect(page.locator("#open-form")).to_be_visible()
    _dropped(page, url)

    logged = caplog.text + " ".join(str(vars(record)) for record in caplog.records)
    for canary in canaries:
        assert all(canary not in line for line in seen)
        assert canary not in logged
    assert not any(line.startswith("pageerror") for line in seen), seen


def test_a_recording_is_dropped_at_the_idle_timeout(
    server: ThreadedServer,
    context: BrowserContext,
    fake_twilio: FakeTwilio,
    keyring: Keyring,
    tmp_path: Path,
) -> None:
    case_ref = _voice_case(server, fake_twilio, noisy_wav())
    page = context.new_page()
    page.clock.install()
    _sign_in(page, server)
    _open_case(page, server, case_ref, _key_file(keyring, tmp_path))
    url = _playing(page)
    # The idle timer forgets, then leaves for the sign-in page. Answering that with
    # 204 keeps this document (HTML: a 204 aborts the navigation), so what the timer
    # dropped can be looked at in the page that held it.
    page.route("**/staff/login*", lambda route: route.fulfill(status=204))
    idle = server.app.state.context.settings.staff_idle_minutes
    page.clock.run_for(idle * 60 * 1000 + 1000)
    expect(page.locator("#recording audio")).to_have_count(0)
    assert "/inbox/cases/" in page.url
    assert page.locator("#content").is_hidden()
    _dropped(page, url)


def test_a_recording_not_fetched_yet_says_so(
    server: ThreadedServer, context: BrowserContext, keyring: Keyring, tmp_path: Path
) -> None:
    case_ref, _receipt = _file_report(server)
    with transaction(server.app.state.context.sessions) as session:
        case = case_by_ref(session, case_ref)
        session.add(CaseAttachment(case_id=case.id, kind=AUDIO, status="pending"))
    page = context.new_page()
    _sign_in(page, server)
    _open_case(page, server, case_ref, _key_file(keyring, tmp_path))
    expect(page.locator("#recording-status")).to_have_text(
        "The recording has not arrived yet. Look again later."
    )
    assert page.locator("#recording audio").count() == 0


# --- axe on every staff page, in every shipped language -----------------------------------


@pytest.fixture(scope="module")
def axe_pages(
    browser: Browser,
    server: ThreadedServer,
    fake_twilio: FakeTwilio,
    keyring: Keyring,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, Any]]:
    """One signed-out page, a focal point's and a coordinator's, each signed in once for
    all the languages; a voice case with its recording, and the focal point's key file."""
    contexts = [browser.new_context(java_script_enabled=True) for _ in range(3)]
    anonymous, focal_point, coordinator = (context.new_page() for context in contexts)
    _sign_in(focal_point, server)
    _sign_in(coordinator, server, user="joseph")
    case_ref = _voice_case(server, fake_twilio, noisy_wav())
    yield {
        "shredded_ref": _shredded_case(server),
        "anonymous": anonymous,
        "focal_point": focal_point,
        "coordinator": coordinator,
        "case_ref": case_ref,
        "key_path": _key_file(keyring, tmp_path_factory.mktemp("axe")),
    }
    for context in contexts:
        context.close()


def _shredded_case(server: ThreadedServer) -> str:
    """A closed case whose content retention destroyed (SPEC 12)."""
    case_ref, _ = _file_report(server)
    context = server.app.state.context
    with transaction(context.sessions) as session:
        case = case_by_ref(session, case_ref)
        case.status = "closed"
        session.add(CaseEvent(case_id=case.id, type="closed", at=utcnow(), actor="amina"))
        shred_case(session, case, context.channels, actor="test", now=utcnow())
    return case_ref


@pytest.mark.parametrize("lang", i18n.SHIPPED)
def test_the_staff_pages_pass_axe(
    server: ThreadedServer, axe_pages: dict[str, Any], lang: str
) -> None:
    url, case_ref = server.url, axe_pages["case_ref"]
    found: dict[str, list[str]] = {}

    def check(page: Page, path: str, name: str) -> None:
        page.goto(f"{url}{path}{'&' if '?' in path else '?'}lang={lang}")
        html = page.locator("html")
        assert (html.get_attribute("lang"), html.get_attribute("dir")) == (
            lang,
            i18n.direction(lang),
        ), name
        found[name] = _axe(page)

    anonymous, focal_point = axe_pages["anonymous"], axe_pages["focal_point"]
    check(anonymous, "/staff/login", "sign-in")
    check(anonymous, "/staff/keys", "keys")
    check(focal_point, "/inbox", "inbox")
    check(focal_point, "/inbox?status=closed", "inbox, empty")
    check(focal_point, "/staff", "home")
    check(focal_point, "/inbox/cases/C-NOSUCHCASE00", "case not found")
    check(axe_pages["coordinator"], "/inbox", "forbidden")
    check(focal_point, f"/inbox/cases/{axe_pages['shredded_ref']}", "case, shredded")
    expect(focal_point.locator("#shredded")).to_be_visible()
    check(focal_point, f"/inbox/cases/{case_ref}", "case")
    # every channel has its word in every language (the voice channel came last)
    voice = i18n.translations_for(lang).gettext("Voice call")
    assert voice in focal_point.locator(".st-facts").first.inner_text()
    focal_point.set_input_files("#f-keyfile", str(axe_pages["key_path"]))
    focal_point.fill("#f-passphrase", PASSPHRASE)
    focal_point.click("#open-form button[type=submit]")
    focal_point.wait_for_selector("#recording audio")
    found["case, opened"] = _axe(focal_point)
    assert {name: ids for name, ids in found.items() if ids} == {}


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
