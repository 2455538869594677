"""Builders for reports and helpers to read cases back as a recipient would."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto.envelope import case_aad, open_envelope, seal
from crypto.keys import KeyPair
from crypto.receipt import seal_to_public_key
from intake.context import AppContext
from intake.models import Case, CaseMessage


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
