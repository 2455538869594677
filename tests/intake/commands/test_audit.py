"""`intake audit verify`: an intact chain, then an edited, a removed and a swapped entry."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select, update
from testkit.cases import report

from crypto.kdf import KdfCost
from intake.cli import main
from intake.db import transaction
from intake.models import AuditEvent, Case
from intake.settings import Settings
from intake.staff.service import NewAccount, add_user

PASSWORD = "audit test passphrase"
Run = Callable[[], tuple[int, str]]


@pytest.fixture
def trail(
    app: FastAPI,
    client: TestClient,
    kdf_cost: KdfCost,
    monkeypatch: pytest.MonkeyPatch,
    settings: Settings,
) -> list[str]:
    """Two cases, a focal point who signed in, read one and acknowledged it."""
    monkeypatch.setenv("INTAKE_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("INTAKE_DATABASE_URL", settings.resolved_database_url)
    context = app.state.context
    with transaction(context.sessions) as session:
        table = context.routing.active(session).table
        account = NewAccount("amina", "focal_point", PASSWORD, focal_point_id="ke-unicef")
        add_user(session, account, table=table, cost=kdf_cost)
    refs = [client.post("/api/v1/reports", json=report()).json()["case_ref"] for _ in range(2)]
    token = client.post(
        "/api/v1/auth/token", data={"username": "amina", "password": PASSWORD}
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(f"/api/v1/cases/{refs[0]}", headers=headers).status_code == 200
    client.post(f"/api/v1/cases/{refs[0]}/events", json={"type": "acknowledged"}, headers=headers)
    return refs


@pytest.fixture
def verify(capsys: pytest.CaptureFixture[str]) -> Run:
    def run() -> tuple[int, str]:
        code = main(["audit", "verify"])
        captured = capsys.readouterr()
        output = captured.out if code == 0 else captured.err
        assert len(output.strip().splitlines()) == 1, output
        return code, output.strip()

    return run


def entry_ids(app: FastAPI) -> list[int]:
    with app.state.context.sessions() as session:
        return list(session.scalars(select(AuditEvent.id).order_by(AuditEvent.id)))


def test_an_intact_trail_verifies(app: FastAPI, trail: list[str], verify: Run) -> None:
    code, line = verify()
    assert code == 0
    assert line == f"audit trail intact ({len(entry_ids(app))} entries)"


def test_an_edited_detail_is_found(app: FastAPI, trail: list[str], verify: Run) -> None:
    target = entry_ids(app)[3]
    with app.state.context.sessions() as session, session.begin():
        session.execute(update(AuditEvent).where(AuditEvent.id == target).values(detail="{}"))
    code, line = verify()
    assert code == 1
    assert f"entry {target}:" in line


@pytest.mark.parametrize("position", [2, -1])
def test_a_removed_entry_is_found(
    app: FastAPI, trail: list[str], verify: Run, position: int
) -> None:
    ids = entry_ids(app)
    target = ids[position]
    with app.state.context.sessions() as session, session.begin():
        session.execute(delete(AuditEvent).where(AuditEvent.id == target))
    code, line = verify()
    assert code == 1
    following = ids[position + 1] if position != -1 else target
    assert f"entry {following}:" in line


def test_a_swapped_envelope_is_found_with_or_without_its_hash(
    app: FastAPI, trail: list[str], verify: Run
) -> None:
    first, second = trail
    with app.state.context.sessions() as session, session.begin():
        envelope = session.scalars(select(Case.envelope).where(Case.case_ref == second)).one()
        session.execute(update(Case).where(Case.case_ref == first).values(envelope=envelope))
    code, line = verify()
    assert code == 1
    assert first in line
    with app.state.context.sessions() as session, session.begin():
        session.execute(
            update(Case)
            .where(Case.case_ref == first)
            .values(envelope_sha256=hashlib.sha256(envelope.encode()).hexdigest())
        )
    code, line = verify()
    assert code == 1
    assert first in line


def test_a_swap_followed_by_a_read_is_still_found(
    app: FastAPI, client: TestClient, trail: list[str], verify: Run
) -> None:
    first, second = trail
    with app.state.context.sessions() as session, session.begin():
        row = session.execute(
            select(Case.envelope, Case.envelope_sha256).where(Case.case_ref == second)
        ).one()
        session.execute(
            update(Case)
            .where(Case.case_ref == first)
            .values(envelope=row.envelope, envelope_sha256=row.envelope_sha256)
        )
    token = client.post(
        "/api/v1/auth/token", data={"username": "amina", "password": PASSWORD}
    ).json()["access_token"]
    client.get(f"/api/v1/cases/{first}", headers={"Authorization": f"Bearer {token}"})
    with app.state.context.sessions() as session:
        last_read = session.scalar(
            select(func.max(AuditEvent.id)).where(AuditEvent.action == "case.read")
        )
    code, line = verify()
    assert code == 1
    assert f"entry {last_read}," in line
    assert first in line
