"""Refusals to a repeat offender wait (`intake.http.tarpit`); all else is answered at once."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from testkit.abuse import nested_lists
from testkit.cases import report

from channels.registry import installed
from crypto.kdf import KdfCost
from intake.app import create_app
from intake.http.tarpit import Offences, TarpitMiddleware
from intake.settings import Settings

DELAY_S = 0.25


class Sleeps:
    """Records each wait; the wait itself is asyncio's, shortened to nothing."""

    def __init__(self) -> None:
        self.asked: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.asked.append(seconds)


def _status_app() -> Starlette:
    async def answer(request: Request) -> PlainTextResponse:
        return PlainTextResponse("", status_code=int(request.path_params["status"]))

    return Starlette(routes=[Route("/{status:int}", answer, methods=["GET", "POST"])])


def _tarpit_client(sleeps: Sleeps, **options: int) -> TestClient:
    app = TarpitMiddleware(_status_app(), delay_s=DELAY_S, sleep=sleeps, **options)
    return TestClient(app, client=("192.0.2.7", 4000))


def test_the_fourth_refusal_within_a_minute_waits_and_the_first_three_do_not() -> None:
    sleeps = Sleeps()
    client = _tarpit_client(sleeps)
    for _ in range(3):
        assert client.get("/429").status_code == 429
    assert sleeps.asked == []
    assert client.get("/413").status_code == 413
    assert client.get("/429").status_code == 429
    assert sleeps.asked == [DELAY_S, DELAY_S]


def test_an_offender_s_other_answers_are_sent_at_once() -> None:
    sleeps = Sleeps()
    client = _tarpit_client(sleeps)
    for _ in range(5):
        client.get("/429")
    waited = len(sleeps.asked)
    for status in (200, 201, 404, 422):
        assert client.get(f"/{status}").status_code == status
    assert len(sleeps.asked) == waited


def test_no_more_than_max_held_wait_at_once() -> None:
    sleeps = Sleeps()
    client = _tarpit_client(sleeps, max_held=0)
    for n in range(6):
        answer = client.get("/429")
        assert answer.status_code == 429
        assert answer.headers.get("connection") == ("close" if n >= 3 else None)
    assert sleeps.asked == []


class HeldSleeps:
    """Waits until released, counting who waits: what asyncio.sleep does, for as long as told."""

    def __init__(self) -> None:
        self.waiting = 0
        self.release = asyncio.Event()

    async def __call__(self, _seconds: float) -> None:
        self.waiting += 1
        try:
            await self.release.wait()
        finally:
            self.waiting -= 1


async def _refusals_at_once(tarpit: TarpitMiddleware, sources: list[str]) -> list[str]:
    """Three refusals to each source first, then these, all at once, while held; the sources
    whose refusal came at once, with `Connection: close`, not waiting."""
    sleeps = tarpit._sleep
    assert isinstance(sleeps, HeldSleeps)
    clients = {
        source: httpx.AsyncClient(
            transport=httpx.ASGITransport(app=tarpit, client=(source, 4000)),
            base_url="http://intake.internal",
        )
        for source in set(sources)
    }
    for client in clients.values():
        for _ in range(3):
            await client.get("/429")
    pending = [asyncio.ensure_future(clients[source].get("/429")) for source in sources]
    while sleeps.waiting + sum(task.done() for task in pending) < len(pending):
        await asyncio.sleep(0)  # until every refusal is either waiting or answered
    at_once = [source for source, task in zip(sources, pending, strict=True) if task.done()]
    assert sleeps.waiting == tarpit.held
    sleeps.release.set()
    answers = await asyncio.gather(*pending)
    for client in clients.values():
        await client.aclose()
    assert {answer.status_code for answer in answers} == {429}
    closed = [s for s, a in zip(sources, answers, strict=True) if a.headers.get("connection")]
    assert closed == at_once
    return at_once


def test_one_source_waits_in_at_most_per_source_slots_and_all_in_max_held() -> None:
    tarpit = TarpitMiddleware(
        _status_app(), delay_s=DELAY_S, sleep=HeldSleeps(), max_held=6, per_source=4
    )
    at_once = asyncio.run(_refusals_at_once(tarpit, ["192.0.2.7"] * 7 + ["192.0.2.8"] * 3))
    # 6 slots: 4 for the first source (3 of its 7 at once), 2 left for the other (1 at once)
    assert sorted(at_once) == ["192.0.2.7"] * 3 + ["192.0.2.8"]
    assert tarpit.held == 0  # every slot given back
    assert tarpit._held_by == {}


def test_offences_age_out_of_the_window_and_sources_count_apart() -> None:
    now = [0.0]
    offences = Offences(limit=2, window_s=60, clock=lambda: now[0])
    first, second = offences.key("192.0.2.1"), offences.key("192.0.2.2")
    assert [offences.record(first) for _ in range(3)] == [False, False, True]
    assert offences.record(second) is False
    now[0] = 61.0
    assert offences.record(first) is False


def test_at_most_max_sources_are_remembered_and_none_in_clear() -> None:
    offences = Offences(max_sources=100)
    for n in range(250):
        offences.record(offences.key(f"198.51.100.{n % 250}:{n}"))
    assert offences.sources() == 100
    remembered = b"".join(offences._recent)
    assert b"198.51.100" not in remembered


@pytest.fixture
def slowed(settings: Settings, loaded_routing: str, kdf_cost: KdfCost) -> Iterator[TestClient]:
    app = create_app(
        settings.model_copy(update={"refusal_delay_s": DELAY_S, "report_limit": "2/hour"}),
        channels=installed(),
        receipt_cost=kdf_cost,
    )
    with TestClient(app, base_url="https://intake.example.org") as client:
        yield client


def test_the_service_slows_repeated_deep_json_and_limits_not_reports_or_mistakes(
    slowed: TestClient,
) -> None:
    sleeps = Sleeps()
    _installed_tarpit(slowed)._sleep = sleeps
    deep, headers = nested_lists(1000), {"content-type": "application/json"}
    for _ in range(4):
        assert slowed.post("/api/v1/reports", content=deep, headers=headers).status_code == 422
    assert sleeps.asked == [DELAY_S]  # the fourth refusal
    for _ in range(2):
        assert slowed.post("/api/v1/reports", json=report()).status_code == 201
    assert slowed.post("/api/v1/reports", json={"narrative": "x"}).status_code == 422
    assert sleeps.asked == [DELAY_S]  # reports and an ordinary mistake: at once
    assert slowed.post("/api/v1/reports", json=report()).status_code == 429  # over 2/hour
    assert sleeps.asked == [DELAY_S, DELAY_S]


def _installed_tarpit(client: TestClient) -> TarpitMiddleware:
    layer = getattr(client.app, "middleware_stack", None)
    while layer is not None and not isinstance(layer, TarpitMiddleware):
        layer = getattr(layer, "app", None)
    assert isinstance(layer, TarpitMiddleware), "the app has no TarpitMiddleware"
    return layer


def test_behind_a_trusted_proxy_each_forwarded_client_counts_apart_and_others_cannot_pretend(
    settings: Settings, loaded_routing: str, kdf_cost: KdfCost
) -> None:
    app = create_app(
        settings.model_copy(update={"refusal_delay_s": DELAY_S, "trusted_proxies": "10.0.0.1"}),
        channels=installed(),
        receipt_cost=kdf_cost,
    )
    deep = nested_lists(1000)
    proxy = TestClient(app, base_url="https://intake.example.org", client=("10.0.0.1", 4000))
    stranger = TestClient(app, base_url="https://intake.example.org", client=("192.0.2.9", 4000))
    with proxy, stranger:
        sleeps = Sleeps()
        _installed_tarpit(proxy)._sleep = sleeps

        def refused(client: TestClient, forwarded: str) -> None:
            headers = {"content-type": "application/json", "x-forwarded-for": forwarded}
            assert client.post("/api/v1/reports", content=deep, headers=headers).status_code == 422

        for _ in range(3):
            refused(proxy, "198.51.100.1")
        refused(proxy, "198.51.100.2")  # another reporter behind the proxy: its first refusal
        assert sleeps.asked == []
        refused(proxy, "198.51.100.1")
        assert sleeps.asked == [DELAY_S]
        for n in range(4):  # not a proxy: its X-Forwarded-For is ignored, it is one source
            refused(stranger, f"203.0.113.{n}")
        assert sleeps.asked == [DELAY_S, DELAY_S]
