"""`intake audit verify`: an intact chain, then an edited, a removed and a swapped entry."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select, update
from testkit.cases import report

from crypto.kdf import KdfCost
from crypto.server_secret import ServerSecret
from intake.audit import trail as audit
from intake.cli import main
from intake.db import transaction
from intake.models import AuditEvent, Case, SystemValue
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


def rechain_tail(app: FastAPI, *, keep: int, secret: ServerSecret | None) -> None:
    """What someone with the database (and maybe the secret) does to hide entries:
    delete the tail, then rebuild the links and the head so the rest looks whole."""
    with app.state.context.sessions() as session, session.begin():
        ids = list(session.scalars(select(AuditEvent.id).order_by(AuditEvent.id)))
        session.execute(delete(AuditEvent).where(AuditEvent.id.in_(ids[keep:])))
        prev = audit.GENESIS
        for event in session.scalars(select(AuditEvent).order_by(AuditEvent.id)):
            event.prev_hash = prev
            event.hash = audit.entry_hash(
                prev_hash=prev,
                at=event.at,
                actor=event.actor,
                action=event.action,
                case_ref=event.case_ref,
                detail=event.detail,
                secret=secret,
            )
            if secret is None:
                event.hash_version = audit.UNKEYED
            prev = event.hash
        session.execute(
            update(SystemValue).where(SystemValue.name == audit.HEAD).values(value=prev.encode())
        )


def test_every_entry_is_keyed_with_the_server_secret(app: FastAPI, trail: list[str]) -> None:
    with app.state.context.sessions() as session:
        events = list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))
    assert events
    for event in events:
        assert event.hash_version == audit.KEYED
        plain = audit.entry_hash(
            prev_hash=event.prev_hash,
            at=event.at,
            actor=event.actor,
            action=event.action,
            case_ref=event.case_ref,
            detail=event.detail,
            secret=None,
        )
        assert event.hash != plain
        assert event.at.second == 0
        assert event.at.microsecond == 0


@pytest.mark.parametrize("version", [audit.UNKEYED, audit.KEYED])
def test_a_tail_rechained_with_plain_sha256_is_found(
    app: FastAPI, trail: list[str], verify: Run, version: int
) -> None:
    """Without the secret file, a rebuilt chain is caught whatever version it claims."""
    rechain_tail(app, keep=3, secret=None)
    if version == audit.KEYED:
        with app.state.context.sessions() as session, session.begin():
            session.execute(update(AuditEvent).values(hash_version=audit.KEYED))
    code, line = verify()
    assert code == 1
    assert f"entry {entry_ids(app)[0]}:" in line


def test_head_prints_the_newest_entry(
    app: FastAPI, trail: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["audit", "head"]) == 0
    printed = json.loads(capsys.readouterr().out)
    with app.state.context.sessions() as session:
        newest = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert newest is not None
    assert printed == {
        "seq": newest.id,
        "hash": newest.hash,
        "at": newest.at.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def test_a_recorded_head_catches_a_truncation_made_with_the_secret(
    app: FastAPI, trail: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["audit", "head"]) == 0
    head = json.loads(capsys.readouterr().out)
    recorded = f"{head['seq']}:{head['hash']}"
    assert main(["audit", "verify", "--head", recorded]) == 0
    capsys.readouterr()
    rechain_tail(app, keep=3, secret=app.state.context.secret)
    assert main(["audit", "verify"]) == 0  # the chain alone looks whole
    capsys.readouterr()
    assert main(["audit", "verify", "--head", recorded]) == 1
    line = capsys.readouterr().err.strip()
    assert line == (
        f"intake: audit trail broken at entry {head['seq']}: "
        "the recorded head is missing (the trail was cut or rebuilt)"
    )


def test_a_recorded_head_catches_a_rebuilt_trail(
    app: FastAPI, trail: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["audit", "head"]) == 0
    head = json.loads(capsys.readouterr().out)
    with app.state.context.sessions() as session, session.begin():
        session.execute(
            update(AuditEvent).where(AuditEvent.id == head["seq"]).values(detail='{"x":1}')
        )
    rechain_tail(app, keep=len(entry_ids(app)), secret=app.state.context.secret)
    assert main(["audit", "verify", "--head", f"{head['seq']}:{head['hash']}"]) == 1
    assert "differs from the recorded head" in capsys.readouterr().err


@pytest.mark.parametrize("text", ["12", "x:" + "0" * 64, "3:" + "A" * 64])
def test_a_malformed_head_is_a_user_error(
    trail: list[str], capsys: pytest.CaptureFixture[str], text: str
) -> None:
    assert main(["audit", "verify", "--head", text]) == 1
    assert capsys.readouterr().err.strip() == (
        "intake: --head must be SEQ:HASH as printed by `intake audit head`"
    )


def test_legacy_unkeyed_entries_still_verify(app: FastAPI, trail: list[str], verify: Run) -> None:
    """Entries written before keying (up to `audit_legacy_until`) keep their SHA-256."""
    rechain_tail(app, keep=len(entry_ids(app)), secret=None)
    last = entry_ids(app)[-1]
    with app.state.context.sessions() as session, session.begin():
        session.execute(
            update(SystemValue)
            .where(SystemValue.name == audit.LEGACY_UNTIL)
            .values(value=str(last).encode())
        )
    assert verify()[0] == 0
    with transaction(app.state.context.sessions) as session:
        audit.append(session, actor="tests", action="test.keyed")
    assert verify()[0] == 0
    with app.state.context.sessions() as session, session.begin():
        session.execute(
            update(AuditEvent).where(AuditEvent.id == last).values(actor="someone else")
        )
    code, line = verify()
    assert code == 1
    assert f"entry {last}:" in line


def test_without_the_secret_file_verify_says_so(
    trail: list[str], settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    settings.resolved_secret_file.rename(settings.resolved_secret_file.with_suffix(".away"))
    assert main(["audit", "verify"]) == 1
    assert "keyed audit entries need it" in capsys.readouterr().err
    assert not settings.resolved_secret_file.exists()  # and no new secret was made


def test_list_prints_who_what_when_and_never_the_detail(
    app: FastAPI, trail: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["audit", "list"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [entry["seq"] for entry in lines] == entry_ids(app)
    assert all(set(entry) == {"seq", "at", "actor", "action", "case_ref"} for entry in lines)
    assert all(entry["at"].endswith("Z") for entry in lines)
    assert main(["audit", "list", "--case", trail[0], "--action", "case.event"]) == 0
    only = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(e["case_ref"], e["action"], e["actor"]) for e in only] == [
        (trail[0], "case.event", "amina")
    ]
    assert main(["audit", "list", "--since", "2999-01-01"]) == 0
    assert capsys.readouterr().out == ""
    assert main(["audit", "list", "--since", "2000-01-01"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == len(lines)


def test_list_refuses_a_bad_day(trail: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "list", "--since", "yesterday"]) == 1
    assert "--since must be a date as YYYY-MM-DD" in capsys.readouterr().err
