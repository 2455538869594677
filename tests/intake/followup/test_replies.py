"""Reporter replies (SPEC 16) through `POST /api/v1/followup/messages` and the service.

Sealed at once to the case's recipients and escrow (and the receipt key, so the
reporter sees it at follow-up), a content-free alert queued, at most 20 a case
a day, a closed case still answering, and the text and receipt nowhere in clear.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from testkit.cases import case_by_ref, report
from testkit.keys import Keyring
from testkit.storage import database_bytes

from channels.registry import installed
from crypto.envelope import case_aad, open_envelope
from crypto.kdf import KdfCost
from crypto.receipt import open_with_keypair
from intake.app import create_app
from intake.context import AppContext
from intake.followup.replies import REPLIES_PER_DAY
from intake.logs import SafeJsonFormatter
from intake.models import AuditEvent, CaseMessage, OutboxEntry, utcnow
from intake.reports.receipts import derive_for
from intake.settings import Settings

RFC3339_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
CANARY = "Canary-REPLY-77: he came back last night and threatened my sister."
PATH = "/api/v1/followup/messages"


def _context(client: TestClient) -> AppContext:
    context: AppContext = client.app.state.context  # type: ignore[attr-defined]
    return context


def _file(client: TestClient) -> tuple[str, str]:
    answer = client.post("/api/v1/reports", json=report()).json()
    return answer["case_ref"], answer["receipt"]


def _replies(context: AppContext, case_ref: str) -> list[CaseMessage]:
    with context.sessions() as session:
        case = case_by_ref(session, case_ref)
        rows = session.scalars(
            select(CaseMessage).where(CaseMessage.case_id == case.id).order_by(CaseMessage.id)
        )
        return list(rows)


def _problem(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


def test_a_reply_is_201_with_its_time_and_sealed_to_every_recipient_and_escrow(
    client: TestClient, keyring: Keyring
) -> None:
    case_ref, receipt = _file(client)
    response = client.post(PATH, json={"receipt": receipt, "text": CANARY})
    assert response.status_code == 201, response.text
    assert set(response.json()) == {"at"}
    assert RFC3339_Z.match(response.json()["at"])
    assert response.headers["cache-control"] == "no-store"
    [stored] = _replies(_context(client), case_ref)
    assert (stored.sender, stored.author) == ("reporter", "reporter")
    for holder in ("ke-unicef", "ke-coordinator", "escrow"):
        opened = open_envelope(
            json.loads(stored.envelope),
            private_key=keyring.pairs[holder].private_key,
            aad=case_aad(case_ref),
        )
        assert opened == {"text": CANARY}  # exactly the text, nothing more
    keys = derive_for(_context(client), receipt)
    assert open_with_keypair(stored.sealed_for_reporter, keys.keypair) == CANARY


def test_the_text_is_kept_exactly_and_counted_in_code_points(client: TestClient) -> None:
    case_ref, receipt = _file(client)
    text = " 🙂" * 2_499 + "ab"  # 5,000 code points (more UTF-16 units), spaces kept
    assert len(text) == 5_000
    assert client.post(PATH, json={"receipt": receipt, "text": text}).status_code == 201
    body = client.post("/api/v1/followup", json={"receipt": receipt}).json()
    assert [message["text"] for message in body["messages"]] == [text]


def test_the_reporter_sees_the_reply_at_follow_up(client: TestClient) -> None:
    _case_ref, receipt = _file(client)
    client.post(PATH, json={"receipt": receipt.replace(" ", "-"), "text": "first"})
    client.post(PATH, json={"receipt": receipt, "text": "second"})
    body = client.post("/api/v1/followup", json={"receipt": receipt}).json()
    assert [message["text"] for message in body["messages"]] == ["first", "second"]
    assert all(set(message) == {"at", "text"} for message in body["messages"])


def test_a_reply_queues_the_content_free_alert_to_each_recipient(client: TestClient) -> None:
    case_ref, receipt = _file(client)
    with _context(client).sessions() as session:
        before = session.scalars(select(OutboxEntry.id)).all()
    assert client.post(PATH, json={"receipt": receipt, "text": CANARY}).status_code == 201
    with _context(client).sessions() as session:
        queued = session.scalars(
            select(OutboxEntry).where(OutboxEntry.id.not_in(before), OutboxEntry.kind == "notify")
        ).all()
        payloads = [json.loads(entry.payload) for entry in queued]
        recipients = case_by_ref(session, case_ref).recipient_ids
    assert {payload["focal_point"] for payload in payloads} == set(recipients)
    for payload in payloads:
        assert payload["event"] == "reporter_reply"
        assert payload["case_ref"] == case_ref
        assert set(payload) == {"case_ref", "focal_point", "address", "event", "due_at"}
        assert "Canary" not in json.dumps(payload)


def test_a_closed_case_still_takes_replies(client: TestClient) -> None:
    case_ref, receipt = _file(client)
    context = _context(client)
    with context.sessions() as session, session.begin():
        case_by_ref(session, case_ref).status = "closed"
    assert client.post(PATH, json={"receipt": receipt, "text": "one more thing"}).status_code == 201
    assert [row.sender for row in _replies(context, case_ref)] == ["reporter"]
    status = client.post("/api/v1/followup", json={"receipt": receipt}).json()["status"]
    assert status == "closed"


def test_twenty_replies_a_day_then_429_with_retry_after(client: TestClient) -> None:
    case_ref, receipt = _file(client)
    for number in range(REPLIES_PER_DAY):
        answer = client.post(PATH, json={"receipt": receipt, "text": f"reply {number}"})
        assert answer.status_code == 201, answer.text
    refused = client.post(PATH, json={"receipt": receipt, "text": "one too many"})
    _problem(refused, 429)
    assert 1 <= int(refused.headers["retry-after"]) <= 24 * 3600 + 1
    assert "one too many" not in refused.text
    assert len(_replies(_context(client), case_ref)) == REPLIES_PER_DAY
    # Another case is not held back, and the reporter can still read.
    _other_ref, other_receipt = _file(client)
    assert client.post(PATH, json={"receipt": other_receipt, "text": "x"}).status_code == 201
    assert client.post("/api/v1/followup", json={"receipt": receipt}).status_code == 200


def test_the_day_is_24_hours_from_the_oldest_counted_reply(client: TestClient) -> None:
    case_ref, receipt = _file(client)
    for number in range(REPLIES_PER_DAY):
        client.post(PATH, json={"receipt": receipt, "text": f"reply {number}"})
    context = _context(client)
    with context.sessions() as session, session.begin():
        oldest = session.scalars(
            select(CaseMessage)
            .where(CaseMessage.case_id == case_by_ref(session, case_ref).id)
            .order_by(CaseMessage.id)
        ).first()
        assert oldest is not None
        oldest.at = utcnow() - timedelta(hours=23)
    refused = client.post(PATH, json={"receipt": receipt, "text": "later"})
    assert refused.status_code == 429
    assert 3300 <= int(refused.headers["retry-after"]) <= 3601  # about an hour left
    with context.sessions() as session, session.begin():
        moved = session.get(CaseMessage, oldest.id)
        assert moved is not None
        moved.at = utcnow() - timedelta(hours=25)
    assert client.post(PATH, json={"receipt": receipt, "text": "later"}).status_code == 201


def test_an_unknown_receipt_is_404_and_counts_as_a_failed_look_up(
    client_for_limits: TestClient,
) -> None:
    client = client_for_limits
    _case_ref, receipt = _file(client)
    for guess in ("1111 2222 3333 4444", "5555 6666 7777 8888"):
        response = client.post(PATH, json={"receipt": guess, "text": CANARY})
        _problem(response, 404)
        assert guess not in response.text
        assert "Canary" not in response.text
    limited = client.post(PATH, json={"receipt": receipt, "text": CANARY})
    _problem(limited, 429)
    assert int(limited.headers["retry-after"]) >= 1


@pytest.fixture
def client_for_limits(
    settings: Settings, loaded_routing: str, kdf_cost: KdfCost
) -> Iterator[TestClient]:
    """A server whose follow-up limit is two failed look-ups an hour a source."""
    app = create_app(
        settings.model_copy(update={"followup_limit": "2/hour"}),
        channels=installed(),
        receipt_cost=kdf_cost,
    )
    with TestClient(app, base_url="https://intake.example.org") as client:
        yield client


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"text": ""}, "reply_empty"),
        ({"text": " \n\t "}, "reply_empty"),
        ({"text": "x" * 5_001}, "reply_too_long"),
        ({"text": "a\x00b"}, "nul_character"),
        ({"text": None}, "string_type"),
        ({}, "missing"),
        ({"text": "x", "receipt": "1234"}, "receipt_invalid"),
        ({"text": "x", "name": "y"}, "extra_forbidden"),
    ],
)
def test_bad_input_is_a_422_problem_that_stores_nothing(
    client: TestClient, body: dict[str, object], code: str
) -> None:
    case_ref, receipt = _file(client)
    response = client.post(PATH, json={"receipt": receipt, **body})
    _problem(response, 422)
    assert code in [error["type"] for error in response.json()["errors"]]
    assert receipt not in response.text
    assert _replies(_context(client), case_ref) == []


def test_neither_the_text_nor_the_receipt_reaches_the_database_or_the_logs(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    case_ref, receipt = _file(client)
    for _ in range(2):
        assert client.post(PATH, json={"receipt": receipt, "text": CANARY}).status_code == 201
    client.post(PATH, json={"receipt": "9999 8888 7777 6666", "text": CANARY})
    stored = database_bytes(_context(client))
    formatter = SafeJsonFormatter()
    logs = "\n".join(
        f"{formatter.format(record)}\n{record.getMessage()}\n{record.__dict__!r}"
        for record in caplog.records
    )
    digits = receipt.replace(" ", "")
    for needle in ("Canary-REPLY-77", "threatened my sister", digits, receipt, "9999 8888"):
        assert needle.encode() not in stored
        assert needle not in logs
    with _context(client).sessions() as session:
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.case_ref == case_ref)
        ).all()
    assert actions.count("case.reply") == 2
