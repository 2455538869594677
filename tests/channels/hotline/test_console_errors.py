"""The console's error summary (SPEC 14): every field at fault, each linked, all at once."""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from markupsafe import escape
from sqlalchemy import func, select

from intake.i18n import translations_for
from intake.models import Case

from .conftest import PASSWORD


def _csrf(text: str) -> str:
    match = re.search(r'name="csrf_token" value="([0-9a-f]+)"', text)
    assert match
    return match.group(1)


@pytest.fixture
def operator(client: TestClient, accounts: dict[str, str]) -> TestClient:
    page = client.get("/staff/login")
    form = {"username": "op-amina", "password": PASSWORD, "csrf_token": _csrf(page.text)}
    assert client.post("/staff/login", data=form, follow_redirects=False).status_code == 303
    return client


def _summary(text: str) -> str:
    return text.split('<div class="problems"', 1)[1].split("</div>", 1)[0]


def test_one_round_names_every_field_at_fault(app: FastAPI, operator: TestClient) -> None:
    page = operator.get("/hotline?lang=fr")
    form = {
        "csrf_token": _csrf(page.text),
        "language": "sw",
        "reporter_type": "anonymous",
        "reporter.name": "Wanjiru",  # a name on an anonymous call
        "incident_date": "2999-01-01",  # and a future date: one round, not two
        "country": "",
        "category": "sexual_abuse",
        "narrative": "",
        "call.duration_min": "ten",
    }
    response = operator.post("/hotline?lang=fr", data=form)
    assert response.status_code == 422
    summary = _summary(response.text)
    links = re.findall(r'<a href="(#[^"]+)"', summary)
    expected = [
        "#f-country",
        "#f-narrative",
        "#f-incident_date",
        "#f-reporter-name",
        "#f-call-duration_min",
    ]
    assert links == expected  # in the order of the page
    for link in links:
        assert f'id="{link[1:]}"' in response.text
    fr = translations_for("fr")
    for label in ("Country where it happened", "The caller's account", "Caller's name"):
        assert f"<strong>{escape(fr.gettext(label))}</strong>" in summary
    assert 'tabindex="-1" autofocus' in response.text
    assert "/static/js/error-summary.js" in response.text
    assert 'class="exit"' not in response.text  # a staff page has no quick exit
    with app.state.context.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 0


def test_console_pages_have_no_quick_exit(operator: TestClient) -> None:
    page = operator.get("/hotline")
    assert 'class="exit"' not in page.text
    assert "quick-exit.js" not in page.text
