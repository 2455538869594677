"""One canary test across every channel: nothing sealed or secret leaks anywhere.

Unique strings go into every sealed field through the web form, the JSON API,
an SMS conversation, the operator API, a transcript import and staff messages
to the reporter. Then the database (every row, and the SQLite file with its
-wal and -shm), the outbox payloads, the logs (the production formatter on
stderr and the captured records), every file under the test's folders and
every HTTP answer given to a caller without the right key are searched for
each canary and each receipt: zero hits. A receipt may appear only in the
answer that issued it. Positive controls show the search can fail: the
recipient's key opens every canary out of the envelopes, and the reporter's
receipt opens the staff messages.
"""

from __future__ import annotations

import csv
import json
import logging
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import MetaData, select
from testkit import staff
from testkit.cases import case_by_ref, open_case, report
from testkit.keys import Keyring
from testkit.sms import Phone, receipt_in

from crypto.kdf import KdfCost
from intake.cli import main
from intake.db import make_engine
from intake.logs import SafeJsonFormatter, configure_logging
from intake.models import Case, OutboxEntry
from intake.settings import Settings

pytestmark = pytest.mark.slow

PASSWORD = "a long leak-test passphrase"
# username -> (role, focal point id, country)
ACCOUNTS: dict[str, tuple[str, str | None, str | None]] = {
    "fp-ke-unicef": ("focal_point", "ke-unicef", None),
    "fp-ke-wfp": ("focal_point", "ke-wfp", None),
    "fp-ke-coordinator": ("focal_point", "ke-coordinator", None),
    "fp-so-unhcr": ("focal_point", "so-unhcr", None),
    "coord-ke": ("coordinator", None, "KE"),
    "op-ke": ("operator", None, "KE"),
}
RECEIPT = re.compile(r"\b\d{4} \d{4} \d{4} \d{4}\b")
_LOGGERS = ("", "intake.reports", "uvicorn", "uvicorn.error", "uvicorn.access", "sqlalchemy",
            "sqlalchemy.engine", "alembic", "twilio")  # fmt: skip


def _canary(label: str) -> str:
    return f"LEAKCANARY{secrets.token_hex(6)}{label}"


def _number() -> str:
    return "+2547" + "".join(secrets.choice("0123456789") for _ in range(8))


def _number_needles(number: str) -> list[str]:
    """A number as stored, without its plus, and its national part."""
    digits = number.removeprefix("+")
    return [number, digits, digits[-9:]]


def _receipt_needles(receipt: str) -> list[str]:
    return [receipt, receipt.replace(" ", "")]


@dataclass
class Filed:
    """One report: its channel, case, receipt and the canaries sealed in it."""

    channel: str
    case_ref: str
    receipt: str
    canaries: list[str]
    messages: list[str] = field(default_factory=list)


@dataclass
class Run:
    """What the test sent and every answer that must hold no canary."""

    filed: list[Filed] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)  # canaries of rejected variants
    keyless: dict[str, bytes] = field(default_factory=dict)  # answers without the right key
    issuing: dict[str, bytes] = field(default_factory=dict)  # answers that gave a receipt


def _keep(run: Run, where: str, response: httpx2.Response, *, expect: int | set[int]) -> None:
    assert response.status_code in ({expect} if isinstance(expect, int) else expect), (
        where,
        response.status_code,
        response.text[:300],
    )
    run.keyless[f"{where} -> {response.status_code}"] = response.content


def _sign_in(client: TestClient, username: str) -> dict[str, str]:
    return staff.bearer(client, username, PASSWORD)


def _staff(app: FastAPI, client: TestClient, kdf_cost: KdfCost) -> dict[str, dict[str, str]]:
    staff.create_accounts(app, kdf_cost, ACCOUNTS, password=PASSWORD)
    return {username: _sign_in(client, username) for username in ACCOUNTS}


def _sealed_report(tag: str) -> tuple[dict[str, Any], list[str]]:
    """A named report with a canary in every sealed text field."""
    values = {name: _canary(f"{tag}{name}") for name in ("narr", "loc", "name", "contact", "vic")}
    body = report(
        reporter_type="named",
        narrative=values["narr"],
        location=values["loc"],
        reporter={"name": values["name"], "contact": values["contact"]},
        victim={"name": values["vic"], "age": 15, "sex": "female"},
        victim_is_child=True,
        consent={"contact_me": True, "share_with_investigators": True},
    )
    return body, list(values.values())


# --- the channels --------------------------------------------------------------------------


def _web_form(client: TestClient, run: Run) -> None:
    page = client.get("/report?lang=en")
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', page.text
    )
    assert match is not None
    values = {name: _canary(f"web{name}") for name in ("narr", "loc", "name", "contact", "vic")}
    form = {
        "csrf_token": match.group(1),
        "reporter_type": "named",
        "language": "en",
        "country": "KE",
        "category": "sexual_abuse",
        "affiliation": "UNICEF",
        "victim_is_child": "yes",
        "narrative": values["narr"],
        "location": values["loc"],
        "reporter.name": values["name"],
        "reporter.contact": values["contact"],
        "victim.name": values["vic"],
        "consent.contact_me": "on",
    }
    response = client.post("/report?lang=en", data=form)
    assert response.status_code == 200, response.text[:300]
    receipt = receipt_in([response.text])
    run.issuing["web receipt page"] = response.content
    run.filed.append(Filed("web", "", receipt, list(values.values())))


def _json_api(client: TestClient, run: Run) -> None:
    body, canaries = _sealed_report("api")
    response = client.post("/api/v1/reports", json=body)
    assert response.status_code == 201, response.text
    run.issuing["api 201"] = response.content
    answer = response.json()
    run.filed.append(Filed("api", answer["case_ref"], answer["receipt"], canaries))
    bad, bad_canaries = _sealed_report("apibad")
    run.rejected += bad_canaries
    _keep(
        run,
        "api bad country",
        client.post("/api/v1/reports", json={**bad, "country": "XX"}),
        expect=422,
    )
    bad_age = {**bad, "victim": {**bad["victim"], "age": bad_canaries[0]}}
    _keep(run, "api bad age", client.post("/api/v1/reports", json=bad_age), expect=422)


def _sms(client: TestClient, run: Run) -> None:
    sender = _number()
    name, parts = _canary("smsname"), [_canary("smsnarr1"), _canary("smsnarr2")]
    phone = Phone(client, number=sender)
    for body in ["Hello", "2", "1", "3", "2", name, "1", *parts, "DONE"]:
        phone.say(body)
    receipt = receipt_in(phone.say("1"))
    run.filed.append(Filed("sms", "", receipt, [name, *parts, *_number_needles(sender)]))


def _hotline_api(client: TestClient, run: Run, operator: dict[str, str]) -> None:
    body, canaries = _sealed_report("hl")
    caller = _number()
    body["call"] = {"started_at": "2026-11-23T10:00:00Z", "duration_s": 60, "caller_number": caller}
    response = client.post("/api/v1/hotline/reports", json=body, headers=operator)
    assert response.status_code == 201, response.text
    run.issuing["operator hotline 201"] = response.content
    answer = response.json()
    filed = Filed(
        "hotline", answer["case_ref"], answer["receipt"], [*canaries, *_number_needles(caller)]
    )
    run.filed.append(filed)
    bad, bad_canaries = _sealed_report("hlbad")
    bad_caller = _number()
    run.rejected += [*bad_canaries, *_number_needles(bad_caller)]
    bad["call"] = {"started_at": bad_canaries[0], "caller_number": bad_caller}
    rejected = client.post("/api/v1/hotline/reports", json=bad, headers=operator)
    _keep(run, "operator hotline bad call", rejected, expect=422)


def _import(settings: Settings, tmp_path: Path, run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    """`intake hotline import` in this process, one good row and one rejected row."""
    values = {name: _canary(f"imp{name}") for name in ("narr", "loc", "name", "contact", "vic")}
    caller = _number()
    good = {
        "call_id": "LEAK-1", "reporter_type": "named", "country": "KE",
        "category": "sexual_abuse", "affiliation": "UNICEF", "narrative": values["narr"],
        "location": values["loc"], "reporter_name": values["name"],
        "reporter_contact": values["contact"], "victim_name": values["vic"],
        "victim_age": "14", "caller_number": caller, "started_at": "2026-11-22T10:00:00Z",
        "duration_s": "300",
    }  # fmt: skip
    bad_caller, bad_narrative = _number(), _canary("impbadnarr")
    bad = {**good, "call_id": "LEAK-2", "country": "XX", "narrative": bad_narrative,
           "caller_number": bad_caller, "victim_age": _canary("impbadage")}  # fmt: skip
    run.rejected += [bad_narrative, bad["victim_age"], *_number_needles(bad_caller)]
    inputs = tmp_path / "inputs"  # the only folder the canaries may be in
    inputs.mkdir()
    with (inputs / "calls.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(good))
        writer.writeheader()
        writer.writerows([good, bad])
    monkeypatch.setenv("INTAKE_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("INTAKE_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("INTAKE_LOG_LEVEL", "debug")
    monkeypatch.setenv("INTAKE_INSECURE_TEST_KDF", "1")  # the app's receipt cost (TEST_COST)
    receipts_out = inputs / "receipts.csv"  # the import's issuing answer
    code = main(
        ["hotline", "import", str(inputs / "calls.csv"), "--receipts-out", str(receipts_out)]
    )
    assert code == 1  # the rejected row
    with receipts_out.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["call_id"] for row in rows] == ["LEAK-1"]
    canaries = [*values.values(), *_number_needles(caller)]
    run.filed.append(Filed("import", rows[0]["case_ref"], rows[0]["receipt"], canaries))


def _fill_case_refs(app: FastAPI, run: Run, keyring: Keyring) -> dict[str, list[str]]:
    """Case refs of the web and SMS reports (found by their canaries); recipients of each."""
    recipients: dict[str, list[str]] = {}
    with app.state.context.sessions() as session:
        cases = list(session.scalars(select(Case)))
        for case in cases:
            ids = [r.focal_point_id for r in case.recipients if r.active]
            recipients[case.case_ref] = ids
            opened = json.dumps(open_case(case, keyring.pairs[ids[0]]), ensure_ascii=False)
            for filed in run.filed:
                if filed.canaries[0] in opened:
                    filed.case_ref = filed.case_ref or case.case_ref
                    assert filed.case_ref == case.case_ref
    assert len(cases) == len(run.filed) == 5
    assert all(filed.case_ref for filed in run.filed)
    return recipients


def _staff_side(
    client: TestClient,
    run: Run,
    headers: dict[str, dict[str, str]],
    recipients: dict[str, list[str]],
) -> None:
    by_focal_point = {fp: name for name, (_r, fp, _c) in ACCOUNTS.items() if fp is not None}
    for filed in run.filed:
        ref = filed.case_ref
        mine = [by_focal_point[fp] for fp in recipients[ref] if fp in by_focal_point]
        others = [name for fp, name in by_focal_point.items() if fp not in recipients[ref]]
        assert mine, recipients[ref]
        assert others, recipients[ref]
        recipient, outsider = headers[mine[0]], headers[others[0]]
        text = _canary(f"msg{filed.channel}")
        filed.messages.append(text)
        url = f"/api/v1/cases/{ref}"
        _keep(
            run,
            f"recipient message {ref}",
            client.post(f"{url}/messages", json={"text": text}, headers=recipient),
            expect=201,
        )
        _keep(run, f"recipient detail {ref}", client.get(url, headers=recipient), expect=200)
        bad_text = _canary("msgbad")
        run.rejected.append(bad_text)
        _keep(
            run,
            f"bad message {ref}",
            client.post(f"{url}/messages", json={"text": bad_text + "\x00"}, headers=recipient),
            expect=422,
        )
        _keep(run, f"outsider detail {ref}", client.get(url, headers=outsider), expect=404)
        _keep(
            run,
            f"outsider message {ref}",
            client.post(f"{url}/messages", json={"text": text}, headers=outsider),
            expect=404,
        )
        _keep(
            run,
            f"outsider event {ref}",
            client.post(f"{url}/events", json={"type": "acknowledged"}, headers=outsider),
            expect=404,
        )
        _keep(run, f"operator detail {ref}", client.get(url, headers=headers["op-ke"]), expect=403)
    _keep(
        run,
        "coordinator list",
        client.get("/api/v1/cases", headers=headers["coord-ke"]),
        expect=200,
    )
    _keep(run, "operator list", client.get("/api/v1/cases", headers=headers["op-ke"]), expect=403)
    wrong = {"receipt": "0000 0000 0000 0001"}
    _keep(run, "wrong receipt", client.post("/api/v1/followup", json=wrong), expect={404, 422})


# --- the search ----------------------------------------------------------------------------


def _every_row(settings: Settings) -> bytes:
    engine = make_engine(settings.resolved_database_url)
    try:
        metadata = MetaData()
        metadata.reflect(engine)
        cells: list[bytes] = []
        with engine.connect() as connection:
            for table in metadata.sorted_tables:
                for row in connection.execute(select(table)):
                    cells += [c if isinstance(c, bytes) else str(c).encode() for c in row]
        return b"\n".join(cells)
    finally:
        engine.dispose()


def _outbox_payloads(app: FastAPI) -> bytes:
    with app.state.context.sessions() as session:
        entries = list(session.execute(select(OutboxEntry.kind, OutboxEntry.payload)))
    assert {kind for kind, _payload in entries} >= {"notify", "sms_reply"}, entries
    return "\n".join(payload for _kind, payload in entries).encode()


def _files(root: Path, skip: Path) -> dict[str, bytes]:
    """Every file under the test's folder (database, -wal, -shm, data dir) but the inputs."""
    return {
        str(path): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and skip not in path.parents
    }


def _records(records: list[logging.LogRecord]) -> bytes:
    formatter = SafeJsonFormatter()
    return "\n".join(formatter.format(record) for record in records).encode()


def _hits(needles: list[str], haystacks: dict[str, bytes]) -> list[tuple[str, str]]:
    return [
        (needle, where)
        for needle in needles
        for where, data in haystacks.items()
        if needle.encode() in data
    ]


@contextmanager
def _production_logging(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """The service's own stderr logging, with caplog still attached; restored after."""
    saved = {
        name: (list(lg.handlers), lg.propagate, lg.disabled, lg.level)
        for name, lg in ((name, logging.getLogger(name)) for name in _LOGGERS)
    }
    caplog.set_level(logging.DEBUG)
    configure_logging("debug")
    logging.getLogger().addHandler(caplog.handler)
    try:
        yield
    finally:
        for name, (handlers, propagate, disabled, level) in saved.items():
            logger = logging.getLogger(name)
            logger.handlers[:] = handlers
            logger.propagate, logger.disabled = propagate, disabled
            logger.setLevel(level)


def _positive_controls(
    app: FastAPI, client: TestClient, run: Run, keyring: Keyring, recipients: dict[str, list[str]]
) -> None:
    """The canaries did go in: the recipient's key and the reporter's receipt find them."""
    with app.state.context.sessions() as session:
        for filed in run.filed:
            case = case_by_ref(session, filed.case_ref)
            keypair = keyring.pairs[recipients[filed.case_ref][0]]
            opened = json.dumps(open_case(case, keypair), ensure_ascii=False)
            assert _hits(filed.canaries, {"envelope": opened.encode()}), filed.channel
            assert filed.canaries[0] in opened
    for filed in run.filed:
        answer = client.post("/api/v1/followup", json={"receipt": filed.receipt})
        assert answer.status_code == 200, (filed.channel, answer.text)
        assert all(text in answer.text for text in filed.messages), filed.channel


def test_no_canary_or_receipt_reaches_storage_logs_or_a_keyless_answer(
    app: FastAPI,
    client: TestClient,
    settings: Settings,
    keyring: Keyring,
    kdf_cost: KdfCost,
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    headers = _staff(app, client, kdf_cost)
    run = Run()
    capfd.readouterr()
    with _production_logging(caplog):
        _web_form(client, run)
        _json_api(client, run)
        _sms(client, run)
        _hotline_api(client, run, headers["op-ke"])
        _import(settings, tmp_path, run, monkeypatch)
        logging.getLogger().addHandler(caplog.handler)  # the command set logging up anew
        recipients = _fill_case_refs(app, run, keyring)
        _staff_side(client, run, headers, recipients)
        captured = capfd.readouterr()
    stderr = (captured.out + captured.err).encode()
    assert b'"msg": "hotline import finished"' in stderr  # the log output was captured
    assert caplog.records

    canaries = [c for filed in run.filed for c in (*filed.canaries, *filed.messages)]
    canaries += run.rejected
    receipts = [needle for filed in run.filed for needle in _receipt_needles(filed.receipt)]
    stored = {
        "every row": _every_row(settings),
        "outbox payloads": _outbox_payloads(app),
        "log output": stderr,
        "log records": _records(caplog.records),
        **_files(tmp_path, skip=tmp_path / "inputs"),
    }
    assert any(name.endswith(("-wal", "-shm", ".db")) for name in stored) or (
        not settings.resolved_database_url.startswith("sqlite")
    )
    assert _hits(canaries + receipts, {**stored, **run.keyless}) == []
    assert _hits(canaries, run.issuing) == []
    for where, body in run.issuing.items():  # each answer holds its own receipt only
        assert len(RECEIPT.findall(body.decode())) == 1, where
    _positive_controls(app, client, run, keyring, recipients)
