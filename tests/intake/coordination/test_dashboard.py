"""/dashboard: who may see it, what it shows (overdue first, suppressed counts), bad input."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from testkit.cases import report
from testkit.staff import page_sign_in

from intake.coordination.chart import month_chart

from .conftest import PASSWORD, Headers, Store

H = timedelta(hours=1)


def test_signing_in_lands_a_coordinator_on_the_dashboard(
    client: TestClient, staff: Headers
) -> None:
    response = page_sign_in(client, "coord-ke", PASSWORD)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/dashboard?")


def test_not_signed_in_goes_to_the_sign_in_page(client: TestClient) -> None:
    response = client.get("/dashboard", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/staff/login")


@pytest.mark.parametrize("account", ["unicef", "operator"])
def test_focal_points_and_operators_get_the_403_page(
    client: TestClient, staff: Headers, account: str
) -> None:
    page_sign_in(client, account, PASSWORD)
    response = client.get("/dashboard")
    assert response.status_code == 403
    assert "Not for this account" in response.text


def test_the_coordinator_sees_its_country_overdue_first_and_suppressed_counts(
    client: TestClient, staff: Headers, store: Store, now: datetime
) -> None:
    late = store(received_at=now - 30 * H, due_at=now - 6 * H)
    later = store(received_at=now - 50 * H, due_at=now - 26 * H)
    on_time = store(received_at=now - H, due_at=now + 23 * H)
    other_country = store(
        received_at=now - 30 * H, due_at=now - 6 * H, country="SO", recipients=("so-unhcr",)
    )
    page_sign_in(client, "coord-ke", PASSWORD)
    page = client.get("/dashboard")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    html = page.text
    assert html.index(later) < html.index(late)  # the longest overdue first
    assert on_time not in html
    assert other_country not in html
    assert html.index("Overdue cases") < html.index("Cases by country")
    assert "ke-unicef" in html  # recipients
    assert "&lt;5" in html
    assert "<5" not in html.replace("&lt;5", "")
    assert '<svg class="st-chart"' in html
    assert 'role="img"' in html
    assert html.count('<tr><th scope="row">20') == 12  # the month table: 12 rows
    assert 'name="country"' not in html  # a coordinator cannot choose another country
    assert "envelope" not in html
    assert "stand_in" not in html


def test_another_country_is_refused_and_bad_dates_are_explained(
    client: TestClient, staff: Headers
) -> None:
    page_sign_in(client, "coord-ke", PASSWORD)
    refused = client.get("/dashboard?country=SO")
    assert refused.status_code == 403
    assert "your own country only" in refused.text
    bad = client.get("/dashboard?from=2026-02-30&to=2026-03-01")
    assert bad.status_code == 422
    assert "YYYY-MM-DD" in bad.text
    assert 'value="2026-02-30"' in bad.text  # the form keeps what was typed
    assert "<svg" not in bad.text


def test_an_admin_sees_every_country_and_can_pick_one(
    client: TestClient, staff: Headers, store: Store, now: datetime
) -> None:
    for country in ("KE", "SO"):
        store(received_at=now - H, country=country, due_at=now + H)
    page_sign_in(client, "admin", PASSWORD)
    every = client.get("/dashboard").text
    assert 'name="country"' in every
    assert "Every country." in every
    assert re.search(r'<th scope="row">KE</th><td>&lt;5</td>', every)
    assert re.search(r'<th scope="row">SO</th><td>&lt;5</td>', every)
    one = client.get("/dashboard?country=SO").text
    assert "Country: SO" in one
    assert '<th scope="row">KE</th>' not in one
    assert client.get("/dashboard?country=ke").status_code == 422


def test_the_page_is_translated(client: TestClient, staff: Headers) -> None:
    page_sign_in(client, "coord-ke", PASSWORD)
    french = client.get("/dashboard?lang=fr")
    assert french.status_code == 200
    assert 'lang="fr"' in french.text
    assert "Dashboard" not in french.text
    arabic = client.get("/dashboard?lang=ar")
    assert 'dir="rtl"' in arabic.text


def test_the_chart_escapes_and_draws_each_kind_of_cell() -> None:
    months = [("2026-01", 12), ("2026-02", "<5"), ("2026-03", None), ("2026-04", 0)]
    svg = str(month_chart(months, small=4, title='Cases "a" <month>'))
    assert svg.startswith("<svg")
    assert svg.endswith("</svg>")
    assert "<month>" not in svg
    assert "&lt;month&gt;" in svg
    assert svg.count("<rect") == 2  # 12 and <5 have bars; hidden and zero have none
    assert ">&lt;5<" in svg
    assert ">–<" in svg
    assert ">0<" in svg
    assert "script" not in svg
    assert "style" not in svg


CANARY = "Canary-FIG-17: the guard at gate 4 took the ration cards"


def test_no_content_reaches_any_figure_or_file(client: TestClient, staff: Headers) -> None:
    """Reports filed through the real intake path: their sealed fields, receipt and
    envelope appear in none of the dashboard, the stats, or the aggregate files."""
    filed = [
        client.post(
            "/api/v1/reports",
            json=report(
                narrative=CANARY, location=f"{CANARY} location", incident_date="2026-11-01"
            ),
        ).json()
        for _ in range(6)
    ]
    page_sign_in(client, "coord-ke", PASSWORD)
    outputs = [
        client.get("/dashboard").text,
        client.get("/api/v1/stats", headers=staff["coord-ke"]).text,
        client.get("/api/v1/exports/aggregate?format=csv", headers=staff["admin"]).text,
    ]
    xlsx = client.get("/api/v1/exports/aggregate?format=xlsx", headers=staff["admin"]).content
    assert '"by_country":{"KE":6}' in outputs[1]  # the six cases are counted
    for receipt in (item["receipt"] for item in filed):
        assert all(receipt not in text for text in outputs)
    for text in outputs:
        assert "Canary-FIG-17" not in text
        assert "xchacha20" not in text
    assert b"Canary-FIG-17" not in xlsx
