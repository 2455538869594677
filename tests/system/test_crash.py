"""Crash safety: SIGKILL `intake serve` under load, restart it, and lose nothing acknowledged.

Several clients send reports, each with a narrative no other report has.
The server is killed (SIGKILL: no shutdown code runs) at random moments and
restarted. Afterwards every report that got a 201 with a receipt must be in
the database exactly once, open with a recipient's key to its own narrative,
and be found by its receipt; reports that got no answer may be missing, but
no case may be half-stored (recipients, the routed event, the audit entry
and the notification entries all come with it), and the audit trail verifies.

A phone meanwhile talks to the SMS webhook as Twilio would: a message that
got no answer is delivered again with the same MessageSid until it gets one.
The last kill lands a few milliseconds after a confirming message went out;
every confirmed conversation must then be one case, and delivering its
confirmation again must give the same receipt.
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from testkit.cases import open_case, report
from testkit.keys import Keyring
from testkit.live import LiveEnv, LiveServer, StartServer
from testkit.sms import SO_NUMBER, TOKEN, URL, messages, new_sid, receipt_in, signature
from testkit.sms import twilio_params as sms_params

from intake.db import make_engine
from intake.models import AuditEvent, Case, CaseEvent, OutboxEntry

pytestmark = pytest.mark.slow

CLIENTS = 4
KILLS = 3
MAX_REPORTS_PER_CLIENT = 150  # bounds the run whatever the machine's speed
MAX_CONVERSATIONS = 40
SMS_SETTINGS = {"INTAKE_TWILIO_AUTH_TOKEN": TOKEN, "INTAKE_PUBLIC_URL": URL.split("/channels")[0]}
# The Somali number: one language, so no language menu. Category 1, organisation
# unknown (2), no name,
# then the account, DONE (in Somali), and 1 to confirm the summary.
SMS_OPENING = ("Salaan", "1", "2", "1", "2")
SMS_DONE = "DHAMMAAD"
SMS_CONFIRM = "1"


@dataclass(frozen=True)
class Sent:
    narrative: str
    status: int | None = None  # None: no answer (connection refused or cut)
    case_ref: str | None = None
    receipt: str | None = None


class Load:
    """Client threads sending unique reports until stopped; they ride out the kills."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.stop = threading.Event()
        self.sent: list[Sent] = []
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._client, args=(n,), daemon=True) for n in range(CLIENTS)
        ]

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop.set()
        for thread in self._threads:
            thread.join(timeout=30)

    def _client(self, number: int) -> None:
        with httpx.Client(base_url=self.base_url, timeout=20.0) as client:
            for count in range(MAX_REPORTS_PER_CLIENT):
                narrative = f"crash client {number} report {count} {uuid.uuid4().hex}"
                outcome = self._send_when_up(client, narrative)
                if outcome is None:
                    return
                with self._lock:
                    self.sent.append(outcome)

    def _send_when_up(self, client: httpx.Client, narrative: str) -> Sent | None:
        """Refused connections (the server is down) are retried: that report never left."""
        while not self.stop.is_set():
            try:
                return _send(client, narrative)
            except httpx.ConnectError:
                time.sleep(0.05)
        return None

    def acknowledged(self) -> list[Sent]:
        with self._lock:
            return [item for item in self.sent if item.status == 201]


@dataclass(frozen=True)
class Conversation:
    narrative: str
    confirm_sid: str
    receipt: str


class Phone:
    """One sender in SMS conversations with the webhook, redelivering like Twilio."""

    def __init__(self, base_url: str, stop: threading.Event) -> None:
        self.base_url = base_url
        self.stop = stop
        self.number = f"+2547{uuid.uuid4().int % 10**8:08d}"
        self.confirming = threading.Event()  # set as a confirmation goes out
        self.narratives: list[str] = []  # every account sent, confirmed or not
        self.done: list[Conversation] = []
        self._thread = threading.Thread(target=self._talk, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def join(self) -> None:
        self._thread.join(timeout=30)

    def _talk(self) -> None:
        with httpx.Client(base_url=self.base_url, timeout=20.0) as client:
            for _ in range(MAX_CONVERSATIONS):
                if self.stop.is_set() or not self._conversation(client):
                    return

    def _conversation(self, client: httpx.Client) -> bool:
        narrative = f"sms crash {uuid.uuid4().hex}"
        self.narratives.append(narrative)
        for text in (*SMS_OPENING, narrative, SMS_DONE):
            if self.deliver(client, text, new_sid()) is None:
                return False
        sid = new_sid()
        self.confirming.set()
        replies = self.deliver(client, SMS_CONFIRM, sid)
        if replies is None:
            return False
        self.done.append(Conversation(narrative, sid, receipt_in(replies)))
        return True

    def deliver(self, client: httpx.Client, text: str, sid: str) -> list[str] | None:
        """The TwiML messages, delivering again until answered; None once stopped."""
        params = sms_params(self.number, SO_NUMBER, text, sid)
        headers = {"X-Twilio-Signature": signature(params)}
        while True:
            try:
                response = client.post("/channels/sms/twilio", data=params, headers=headers)
            except httpx.TransportError:
                if self.stop.is_set():
                    return None
                time.sleep(0.05)
                continue
            assert response.status_code == 200, response.text
            return messages(response)


def _send(client: httpx.Client, narrative: str) -> Sent:
    try:
        response = client.post("/api/v1/reports", json=report(narrative=narrative))
    except httpx.ConnectError:
        raise
    except httpx.TransportError:
        return Sent(narrative)  # sent, but the answer was lost: stored or not, never half
    if response.status_code != 201:
        return Sent(narrative, response.status_code)
    body = response.json()
    return Sent(narrative, 201, body["case_ref"], body["receipt"])


def _kill_at_random_moments(server: LiveServer, phone: Phone, rng: random.Random) -> None:
    """Two kills at random, the last just after a confirming SMS went out."""
    for kill in range(KILLS):
        if kill < KILLS - 1:
            time.sleep(rng.uniform(0.3, 1.5))
        else:
            phone.confirming.clear()
            assert phone.confirming.wait(timeout=30), "the phone never confirmed"
            time.sleep(rng.uniform(0.0, 0.03))
        server.kill()
        time.sleep(rng.uniform(0.0, 0.3))
        server.start()
    time.sleep(0.8)  # some reports after the last restart too


@pytest.mark.timeout(150)
def test_acknowledged_reports_survive_sigkill(
    live_server: StartServer, live_env: LiveEnv, keyring: Keyring
) -> None:
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    server = live_server(**SMS_SETTINGS)
    with Load(server.base_url) as load:
        phone = Phone(server.base_url, load.stop)
        phone.start()
        _kill_at_random_moments(server, phone, rng)
    phone.join()
    acked = load.acknowledged()
    statuses = Counter(item.status for item in load.sent)
    assert set(statuses) <= {201, None}, f"seed {seed}: answers other than 201: {statuses}"
    assert len(acked) >= CLIENTS, f"seed {seed}: too few reports acknowledged to prove anything"
    assert phone.done, f"seed {seed}: no SMS conversation finished"
    _assert_receipts_find_their_cases(server, acked)
    _assert_confirmations_answer_alike(server, phone)
    server.stop()
    verify = live_env.run("audit", "verify")
    assert verify.returncode == 0, verify.stderr
    attempted = {item.narrative for item in load.sent} | set(phone.narratives)
    confirmed = [conversation.narrative for conversation in phone.done]
    _assert_stored_exactly_once(live_env, keyring, attempted, acked, confirmed)


def _assert_confirmations_answer_alike(server: LiveServer, phone: Phone) -> None:
    """Each confirmation, delivered again now, gives its receipt again."""
    with httpx.Client(base_url=server.base_url, timeout=20.0) as client:
        for conversation in phone.done:
            replies = phone.deliver(client, SMS_CONFIRM, conversation.confirm_sid)
            assert replies is not None
            assert receipt_in(replies) == conversation.receipt
            found = client.post("/api/v1/followup", json={"receipt": conversation.receipt})
            assert found.status_code == 200


def _assert_receipts_find_their_cases(server: LiveServer, acked: list[Sent]) -> None:
    with httpx.Client(base_url=server.base_url, timeout=20.0) as client:
        for item in acked:
            response = client.post("/api/v1/followup", json={"receipt": item.receipt})
            assert response.status_code == 200
            assert response.json()["case_ref"] == item.case_ref


def _assert_stored_exactly_once(
    env: LiveEnv, keyring: Keyring, attempted: set[str], acked: list[Sent], confirmed: list[str]
) -> None:
    engine = make_engine(env.database_url)
    try:
        with Session(engine) as session:
            narratives = _check_every_case_whole(session, keyring)
    finally:
        engine.dispose()
    by_ref = dict(narratives)
    stored = Counter(narrative for _ref, narrative in narratives)
    assert max(stored.values(), default=1) == 1, "a report was stored twice"
    assert set(stored) <= attempted, "a case nobody sent"
    for item in acked:
        assert item.case_ref is not None
        assert by_ref.get(item.case_ref) == item.narrative, "an acknowledged report is lost"
    assert set(confirmed) <= set(stored), "a confirmed SMS report is lost"


def _check_every_case_whole(session: Session, keyring: Keyring) -> list[tuple[str, str]]:
    """(case_ref, narrative) of every case, asserting each has all its rows."""
    alerted = _notifications(session)
    found: list[tuple[str, str]] = []
    for case in session.scalars(select(Case).order_by(Case.id)):
        recipients = sorted(r.focal_point_id for r in case.recipients)
        assert recipients, f"{case.case_ref} has no recipients"
        routed = session.scalar(
            select(func.count())
            .select_from(CaseEvent)
            .where(CaseEvent.case_id == case.id, CaseEvent.type == "routed")
        )
        assert routed == 1, f"{case.case_ref} has {routed} routed events"
        audited = session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.case_ref == case.case_ref, AuditEvent.action == "case.created")
        )
        assert audited == 1, f"{case.case_ref} has {audited} audit entries"
        # Each test focal point has one notify address: one alert per recipient.
        assert sorted(alerted.get(case.case_ref, [])) == recipients
        content = open_case(case, keyring.pairs[recipients[0]])
        found.append((case.case_ref, content["narrative"]))
    return found


def _notifications(session: Session) -> dict[str, list[str]]:
    """case_ref -> focal points the outbox alerts about it."""
    alerted: dict[str, list[str]] = {}
    for text in session.scalars(select(OutboxEntry.payload).where(OutboxEntry.kind == "notify")):
        payload = json.loads(text)
        alerted.setdefault(payload["case_ref"], []).append(payload["focal_point"])
    return alerted
