"""Builders for reports and helpers to read cases back as a recipient would."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto.envelope import case_aad, open_envelope
from crypto.keys import KeyPair
from intake.models import Case


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
