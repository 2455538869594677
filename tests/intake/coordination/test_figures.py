"""The figures against hand-counted cases, on SQLite and PostgreSQL, and `GET /api/v1/stats`."""

from __future__ import annotations

import calendar
from collections import Counter
from datetime import date, datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from intake.coordination.figures import Figures, Hours, compute, month_labels, overdue_cases
from intake.coordination.period import Period
from intake.db import transaction

from .conftest import Headers, Store

H = timedelta(hours=1)
D = timedelta(days=1)


@pytest.fixture
def seven(store: Store, now: datetime) -> dict[str, datetime]:
    """Seven cases, counted by hand below; received time by name."""
    received = {
        "A": now - 2 * H,
        "B": now - 30 * H,
        "C": now - 10 * D,
        "D": now - 20 * D,
        "E": now - 5 * D,
        "F": now - 100 * D,
        "G": now - 40 * D,
    }
    store(received_at=received["A"], due_at=now + 22 * H)
    store(received_at=received["B"], channel="sms", due_at=now - 6 * H)  # overdue
    store(
        received_at=received["C"],
        category="sexual_harassment",
        status="acknowledged",
        acknowledged_at=received["C"] + 2 * H,
    )
    store(
        received_at=received["D"],
        category="fraud_corruption",
        channel="hotline",
        status="referred",
        acknowledged_at=received["D"] + 4 * H,
        referred_at=received["D"] + 10 * H,
    )
    store(
        received_at=received["E"],
        country="SO",
        affiliation="UNHCR",
        status="closed",
        acknowledged_at=received["E"] + 1 * H,
        referred_at=received["E"] + 3 * H,
        outcome="substantiated",
        recipients=("so-unhcr",),
    )
    store(received_at=received["F"], due_at=received["F"] + 24 * H)  # overdue, before the period
    store(
        received_at=received["G"],
        category="other",
        channel="api",
        status="acknowledged",
        acknowledged_at=received["G"] + 8 * H,
    )
    return received


def _figures(
    app: FastAPI, now: datetime, country: str | None, period: Period | None = None
) -> Figures:
    period = period or Period(first=now.date() - timedelta(days=89), last=now.date())
    with transaction(app.state.context.sessions) as session:
        return compute(session, period, country, now=now)


def test_one_countrys_figures_match_the_hand_count(
    app: FastAPI, seven: dict[str, datetime], now: datetime
) -> None:
    figures = _figures(app, now, "KE")
    assert figures.by_country == {"KE": 5}  # A B C D G (F is before the period, E is SO)
    assert figures.total == 5
    assert {k: v for k, v in figures.by_category.items() if v} == {
        "sexual_abuse": 2,
        "sexual_harassment": 1,
        "fraud_corruption": 1,
        "other": 1,
    }
    assert figures.by_category["discrimination"] == 0
    assert {k: v for k, v in figures.by_channel.items() if v} == {
        "web": 2,
        "sms": 1,
        "hotline": 1,
        "api": 1,
    }
    assert figures.by_status == {
        "routed": 2,
        "acknowledged": 2,
        "referred": 1,
        "investigating": 0,
        "closed": 0,
    }
    assert figures.overdue == 2  # B and F: overdue now, whatever the period
    # acknowledged after 2, 4 and 8 hours; p90 at position 1.8: 4 + 0.8 * 4
    assert figures.to_acknowledged == Hours(
        cases=3, median=pytest.approx(4.0), p90=pytest.approx(7.2)
    )
    assert figures.to_referred == Hours(
        cases=1, median=pytest.approx(10.0), p90=pytest.approx(10.0)
    )


def test_every_countrys_figures_match_the_hand_count(
    app: FastAPI, seven: dict[str, datetime], now: datetime
) -> None:
    figures = _figures(app, now, None)
    assert figures.by_country == {"KE": 5, "SO": 1}
    assert figures.total == 6
    assert figures.by_status["closed"] == 1
    # 1, 2, 4, 8 hours: median 3, p90 at 2.7: 4 + 0.7 * 4; referred after 3 and 10 hours
    assert figures.to_acknowledged.median == pytest.approx(3.0)
    assert figures.to_acknowledged.p90 == pytest.approx(6.8)
    assert figures.to_referred.median == pytest.approx(6.5)
    assert figures.to_referred.p90 == pytest.approx(9.3)


def test_months_count_the_last_twelve_months(
    app: FastAPI, seven: dict[str, datetime], now: datetime
) -> None:
    figures = _figures(app, now, "KE")
    labels = month_labels(now.date())
    assert [month for month, _n in figures.months] == labels
    assert len(labels) == 12
    assert labels[-1] == now.strftime("%Y-%m")
    ke = [name for name in seven if name != "E"]
    expected = Counter(seven[name].strftime("%Y-%m") for name in ke)
    assert dict(figures.months) == {month: expected.get(month, 0) for month in labels}


def test_the_period_is_inclusive_by_received_date(
    app: FastAPI, store: Store, now: datetime
) -> None:
    day = date(2026, 3, 10)
    start = datetime(2026, 3, 10, tzinfo=now.tzinfo)
    for at in (start - timedelta(minutes=1), start, start + D - timedelta(minutes=1), start + D):
        store(received_at=at, due_at=at + 24 * H)
    figures = _figures(app, now, "KE", Period(first=day, last=day))
    assert figures.total == 2
    assert _figures(app, now, "KE", Period(first=day - D, last=day + D)).total == 4


def test_no_case_gives_empty_figures(app: FastAPI, client: TestClient, now: datetime) -> None:
    figures = _figures(app, now, None)
    assert figures.total == 0
    assert figures.by_country == {}
    assert figures.overdue == 0
    assert figures.to_acknowledged == Hours(cases=0, median=None, p90=None)
    assert all(n == 0 for _m, n in figures.months)


def test_the_overdue_list_is_the_longest_overdue_first(
    app: FastAPI, seven: dict[str, datetime], now: datetime
) -> None:
    with transaction(app.state.context.sessions) as session:
        listed = overdue_cases(session, "KE", now=now)
        assert overdue_cases(session, "SO", now=now) == []
    assert [round(item.hours_late) for item in listed] == [100 * 24 - 24, 6]
    assert listed[1].recipients == ["ke-unicef"]
    assert listed[1].category == "sexual_abuse"


# --- GET /api/v1/stats ----------------------------------------------------------------------


def test_stats_answers_the_spec_shape_with_small_cells_suppressed(
    client: TestClient, staff: Headers, seven: dict[str, datetime], now: datetime
) -> None:
    response = client.get("/api/v1/stats", headers=staff["coord-ke"])
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert set(body) == {
        "from",
        "to",
        "by_country",
        "by_category",
        "by_channel",
        "by_status",
        "total",
        "overdue",
        "hours_to_acknowledged",
        "hours_to_referred",
        "months",
    }
    assert body["to"] == now.date().isoformat()
    assert body["from"] == (now.date() - timedelta(days=89)).isoformat()
    assert body["by_country"] == {"KE": 5}
    assert body["total"] is None  # small cells in the group
    assert body["by_category"]["sexual_abuse"] == "<5"
    assert body["by_category"]["discrimination"] == 0
    assert body["by_status"] == {
        "routed": "<5",
        "acknowledged": "<5",
        "referred": "<5",
        "investigating": 0,
        "closed": 0,
    }
    assert body["overdue"] == "<5"
    assert body["hours_to_acknowledged"] == {"median": None, "p90": None}  # 3 cases
    assert [m["month"] for m in body["months"]] == month_labels(now.date())


def test_stats_prints_large_counts_and_hides_what_would_give_a_small_one_away(
    client: TestClient, staff: Headers, store: Store, now: datetime
) -> None:
    for hours in range(1, 8):  # 7 acknowledged after 1..7 hours
        at = now - 3 * D
        store(received_at=at, status="acknowledged", acknowledged_at=at + hours * H)
    for _ in range(2):
        store(received_at=now - 2 * D, category="other", channel="sms", due_at=now + H)
    body = client.get("/api/v1/stats", headers=staff["admin"]).json()
    assert body["by_country"] == {"KE": 9}  # 9 is the total: "other" = 9 - 7 unless hidden
    assert body["by_category"]["other"] == "<5"
    assert body["by_category"]["sexual_abuse"] is None
    assert body["by_channel"]["web"] is None
    assert body["by_channel"]["sms"] == "<5"
    assert body["by_status"]["acknowledged"] is None
    assert body["by_status"]["routed"] == "<5"
    assert body["total"] is None
    assert body["overdue"] == 0
    assert body["hours_to_acknowledged"] == {"median": 4.0, "p90": 6.4}
    assert body["hours_to_referred"] == {"median": None, "p90": None}


def test_stats_with_no_small_cell_prints_the_total(
    client: TestClient, staff: Headers, store: Store, now: datetime
) -> None:
    for _ in range(6):
        store(received_at=now - D, due_at=now + H)
    body = client.get("/api/v1/stats", headers=staff["coord-ke"]).json()
    assert body["total"] == 6
    assert body["by_status"]["routed"] == 6
    month = next(m for m in body["months"] if m["month"] == (now - D).strftime("%Y-%m"))
    assert month["count"] == 6


def test_months_that_make_up_the_period_are_linked_to_its_total(
    client: TestClient, staff: Headers, store: Store, now: datetime
) -> None:
    """A period of whole months: the months add up to the total, so they are suppressed
    with the breakdowns (a lone small month beside a printed total would give it away)."""
    this_month = now.date().replace(day=1)
    previous = (this_month - D).replace(day=1)
    for _ in range(6):
        store(received_at=datetime.combine(previous, datetime.min.time(), now.tzinfo) + H)
    store(received_at=datetime.combine(this_month, datetime.min.time(), now.tzinfo) + H)
    last_day = this_month.replace(day=calendar.monthrange(now.year, now.month)[1])
    query = {"from": previous.isoformat(), "to": last_day.isoformat()}
    body = client.get("/api/v1/stats", params=query, headers=staff["coord-ke"]).json()
    months = {m["month"]: m["count"] for m in body["months"]}
    assert body["by_country"] == {"KE": 7}
    assert months[this_month.strftime("%Y-%m")] == "<5"
    assert months[previous.strftime("%Y-%m")] is None  # else 7 - 6 gives the small month


@pytest.mark.parametrize(
    ("account", "query", "status"),
    [
        ("coord-ke", {}, 200),
        ("coord-ke", {"country": "KE"}, 200),
        ("coord-ke", {"country": "SO"}, 403),
        ("coord-so", {"country": "KE"}, 403),
        ("admin", {}, 200),
        ("admin", {"country": "SO"}, 200),
        ("unicef", {}, 403),
        ("operator", {}, 403),
    ],
)
def test_who_may_read_which_stats(
    client: TestClient, staff: Headers, account: str, query: dict[str, str], status: int
) -> None:
    response = client.get("/api/v1/stats", params=query, headers=staff[account])
    assert response.status_code == status, response.text
    if status == 403:
        assert response.headers["content-type"].startswith("application/problem+json")


def test_stats_needs_a_token(client: TestClient) -> None:
    assert client.get("/api/v1/stats").status_code == 401


def test_an_admin_picks_a_country(
    client: TestClient, staff: Headers, seven: dict[str, datetime]
) -> None:
    body = client.get("/api/v1/stats", params={"country": "SO"}, headers=staff["admin"]).json()
    assert body["by_country"] == {"SO": "<5"}
    assert body["by_status"]["closed"] == "<5"
    assert body["by_status"]["routed"] == 0


@pytest.mark.parametrize(
    "query",
    [
        {"from": "2026-13-01"},
        {"to": "yesterday"},
        {"from": "2026-02-30"},
        {"from": "2026-05-02", "to": "2026-05-01"},
        {"from": "2026-5-1"},
        {"country": "ke"},
        {"country": "XX"},
    ],
)
def test_bad_dates_and_countries_are_422_problems(
    client: TestClient, staff: Headers, query: dict[str, str]
) -> None:
    response = client.get("/api/v1/stats", params=query, headers=staff["admin"])
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert {"type", "title", "status", "detail"} <= set(body)
    assert all(value not in response.text for value in query.values())
