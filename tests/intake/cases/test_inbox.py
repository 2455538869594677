"""/inbox: the focal point's cases, overdue first then by due date, filtered and paged."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import update
from testkit.staff import page_sign_in

from intake.cases import inbox
from intake.db import transaction
from intake.models import Case, utcnow

from .conftest import PASSWORD, FileReport, Headers


def _refs(html: str) -> list[str]:
    return re.findall(r'class="st-ref" href="/inbox/cases/([^?"]+)', html)


def _set_due(app: FastAPI, case_ref: str, hours: float, **values: object) -> None:
    with transaction(app.state.context.sessions) as session:
        session.execute(
            update(Case)
            .where(Case.case_ref == case_ref)
            .values(due_at=utcnow() + timedelta(hours=hours), **values)
        )


def test_overdue_first_then_by_due_date_and_only_the_focal_points_cases(
    app: FastAPI, client: TestClient, staff: Headers, file_report: FileReport
) -> None:
    late = file_report().case_ref
    soon = file_report().case_ref
    later = file_report().case_ref
    done_late = file_report().case_ref
    other = file_report(country="SO", affiliation="UNHCR").case_ref
    _set_due(app, late, -2)
    _set_due(app, soon, 1)
    _set_due(app, later, 30)
    _set_due(app, done_late, -5, status="acknowledged")  # not overdue once acknowledged
    page_sign_in(client, "unicef", PASSWORD)
    page = client.get("/inbox")
    assert page.status_code == 200
    assert _refs(page.text) == [late, done_late, soon, later]
    assert other not in page.text
    listed = client.get("/api/v1/cases", headers=staff["unicef"]).json()["items"]
    assert {item["case_ref"] for item in listed} == set(_refs(page.text))
    assert page.text.count("Overdue") == 1
    for word in ("Received", "Channel", "Country", "Kind of problem", "Child", "Status", "Due"):
        assert word in page.text


def test_the_status_filter_and_pages(
    app: FastAPI, client: TestClient, staff: Headers, file_report: FileReport, monkeypatch: object
) -> None:
    refs = [file_report().case_ref for _ in range(5)]
    _set_due(app, refs[0], 1, status="closed")
    page_sign_in(client, "unicef", PASSWORD)
    closed = client.get("/inbox?status=closed")
    assert _refs(closed.text) == [refs[0]]
    assert '<option value="closed" selected>' in closed.text
    unknown = client.get("/inbox?status=nonsense")
    assert len(_refs(unknown.text)) == 5  # an unknown word filters nothing
    monkeypatch.setattr(inbox, "PAGE_SIZE", 2)  # type: ignore[attr-defined]
    first, second, third = (client.get(f"/inbox?page={n}").text for n in (1, 2, 3))
    assert [len(_refs(text)) for text in (first, second, third)] == [2, 2, 1]
    assert set(_refs(first + second + third)) == set(refs)
    assert "page=2" in first
    assert "Page 3 of 3" in third
    assert _refs(client.get("/inbox?page=99").text) == _refs(third)


def test_a_focal_point_without_cases_sees_an_empty_inbox(
    client: TestClient, staff: Headers
) -> None:
    page_sign_in(client, "unhcr", PASSWORD)
    page = client.get("/inbox?lang=fr")
    assert page.status_code == 200
    assert _refs(page.text) == []
    assert '<html lang="fr"' in page.text
