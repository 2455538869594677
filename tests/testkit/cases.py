"""Builders for reports and helpers to read cases back as a recipient would."""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto.envelope import case_aad, open_envelope, seal
from crypto.keys import KeyPair
from crypto.receipt import seal_to_public_key
from intake.context import AppContext
from intake.models import Case, CaseEvent, CaseMessage, CaseRecipient


def report(**overrides: Any) -> dict[str, Any]:
    """A valid anonymous ReportIn body; keyword arguments replace fields."""
    body: dict[str, Any] = {
        "reporter_type": "anonymous",
        "country": "KE",
        "category": "sexual_abuse",
        "affiliation": "UNICEF",
        "victim_is_child": False,
        "narrative": "A distribution worker asked for sex in exchange for food.",
    }
    body.update(overrides)
    return {key: value for key, value in body.items() if value is not ...}


def case_by_ref(session: Session, case_ref: str) -> Case:
    return session.scalars(select(Case).where(Case.case_ref == case_ref)).one()


def open_case(case: Case, keypair: KeyPair) -> dict[str, Any]:
    return open_envelope(
        json.loads(case.envelope), private_key=keypair.private_key, aad=case_aad(case.case_ref)
    )


def add_sealed_message(
    context: AppContext, keypair: KeyPair, case_ref: str, text: str, at: datetime
) -> None:
    """A focal point's message stored as the case API stores it (receipt key + `keypair`)."""
    with context.sessions() as session, session.begin():
        case = case_by_ref(session, case_ref)
        envelope = seal({"text": text}, public_keys=[keypair.public_key], aad=case_aad(case_ref))
        session.add(
            CaseMessage(
                case_id=case.id,
                at=at,
                author="ke-unicef",
                sealed_for_reporter=seal_to_public_key(text, case.receipt_public_key),
                envelope=json.dumps(envelope),
            )
        )


def stored_case(
    session: Session,
    *,
    received_at: datetime,
    country: str = "KE",
    category: str = "sexual_abuse",
    channel: str = "web",
    status: str = "routed",
    affiliation: str = "UNICEF",
    victim_is_child: bool | None = False,
    due_at: datetime | None = None,
    acknowledged_at: datetime | None = None,
    referred_at: datetime | None = None,
    outcome: str | None = None,
    closed_at: datetime | None = None,
    recipients: tuple[str, ...] = ("ke-unicef",),
) -> Case:
    """A case row as the intake path and the lifecycle leave it (clear metadata, a stand-in
    envelope, its `referred` and `closed` events stored as `record_event` stores them), for
    figures that need many cases at chosen times without filing each one."""
    envelope = json.dumps({"v": 1, "stand_in": secrets.token_hex(8)})
    case = Case(
        case_ref=f"C-{secrets.token_hex(6).upper()}",
        channel=channel,
        reporter_type="anonymous",
        language="en",
        country=country,
        category=category,
        affiliation=affiliation,
        victim_is_child=victim_is_child,
        received_at=received_at,
        updated_at=received_at,
        status=status,
        due_at=due_at or received_at + timedelta(hours=24),
        acknowledged_at=acknowledged_at,
        rule_id="test",
        table_version="test",
        envelope=envelope,
        envelope_sha256=hashlib.sha256(envelope.encode()).hexdigest(),
        receipt_lookup=secrets.token_bytes(32),
        receipt_public_key=secrets.token_bytes(32),
    )
    case.recipients = [
        CaseRecipient(focal_point_id=fp, position=n, added_at=received_at)
        for n, fp in enumerate(recipients)
    ]
    session.add(case)
    session.flush()
    events = [("routed", received_at, None)]
    if referred_at is not None:
        events.append(("referred", referred_at, {"to": "investigation"}))
    if outcome is not None:
        events.append(
            ("closed", closed_at or received_at + timedelta(days=1), {"outcome": outcome})
        )
    for kind, at, detail in events:
        text = json.dumps(detail, separators=(",", ":")) if detail else None
        session.add(CaseEvent(case_id=case.id, type=kind, at=at, actor="tests", detail=text))
    return case
