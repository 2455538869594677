"""Receipts made ahead (`intake.reports.receipt_pool`): each handed out once, made when idle."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from testkit.cases import report

from channels.registry import installed
from crypto.kdf import KdfCost
from crypto.receipt import derive_receipt_keys, format_receipt
from intake.app import build_context, create_app
from intake.context import AppContext, KdfPool
from intake.followup.service import look_up
from intake.reports.receipt_pool import ReceiptPool
from intake.reports.receipts import fresh_receipt, start_receipt_pool
from intake.settings import Settings

WAIT_S = 30.0  # generous: the machine may be busy; nothing here measures time


def _counting_pool(size: int) -> tuple[ReceiptPool[int], list[int]]:
    made: list[int] = []
    counter = itertools.count()

    def make() -> int:
        value = next(counter)
        made.append(value)
        return value

    return ReceiptPool(size, make), made


def test_a_pool_fills_to_its_size_and_hands_each_value_out_once() -> None:
    pool, made = _counting_pool(5)
    pool.start()
    assert pool.wait_until_full(WAIT_S)
    taken = [pool.take() for _ in range(5)]
    assert sorted(value for value in taken if value is not None) == made[:5]
    assert pool.wait_until_full(WAIT_S)  # refilled after the takes
    more = [pool.take() for _ in range(5)]
    pool.stop()
    handed = [value for value in taken + more if value is not None]
    assert len(handed) == 10 == len(set(handed))


def test_a_stopped_pool_forgets_what_it_made_and_hands_out_nothing() -> None:
    pool, _made = _counting_pool(3)
    pool.start()
    assert pool.wait_until_full(WAIT_S)
    pool.stop()
    assert pool.ready() == 0
    assert pool.take() is None


def test_an_off_pool_hands_out_nothing() -> None:
    pool: ReceiptPool[int] = ReceiptPool.off()
    pool.start()
    assert pool.take() is None
    pool.stop()


def test_the_filler_steps_back_while_busy_and_fills_once_free() -> None:
    free = threading.Event()

    def make() -> int | None:
        return 1 if free.is_set() else None

    pool = ReceiptPool(2, make)
    pool.start()
    assert not pool.wait_until_full(0.2)
    free.set()
    assert pool.wait_until_full(WAIT_S)
    pool.stop()


def test_the_filler_outlives_a_failing_derivation() -> None:
    calls = itertools.count()

    def make() -> int:
        if next(calls) == 0:
            raise RuntimeError("one bad run")
        return 7

    pool = ReceiptPool(1, make)
    pool.start()
    assert pool.wait_until_full(WAIT_S)
    assert pool.take() == 7
    pool.stop()


def test_run_if_free_does_not_wait_for_a_taken_slot() -> None:
    slots = KdfPool(1)
    inside, release = threading.Event(), threading.Event()

    def hold() -> None:
        inside.set()
        release.wait(WAIT_S)

    holder = threading.Thread(target=slots.run, args=(hold,))
    holder.start()
    assert inside.wait(WAIT_S)
    assert slots.run_if_free(lambda: "ran") is None
    release.set()
    holder.join()
    assert slots.run_if_free(lambda: "ran") == "ran"


@pytest.fixture
def pooled(settings: Settings, loaded_routing: str, kdf_cost: KdfCost) -> Iterator[AppContext]:
    context = build_context(
        settings.model_copy(update={"receipt_pool": 4}), channels=installed(), receipt_cost=kdf_cost
    )
    start_receipt_pool(context)
    yield context
    context.close()


def test_a_receipt_made_ahead_has_the_keys_the_follow_up_derives(pooled: AppContext) -> None:
    assert pooled.receipts.wait_until_full(WAIT_S)
    receipt, keys = fresh_receipt(pooled)
    again = derive_receipt_keys(
        receipt,
        salt=pooled.receipt_salt,
        server_secret=pooled.secret.subkey("receipt"),
        cost=pooled.receipt_cost,
    )
    assert (keys.lookup, keys.keypair.public_key) == (again.lookup, again.keypair.public_key)


def test_receipts_come_from_the_pool_then_from_the_kdf_and_never_twice(
    pooled: AppContext,
) -> None:
    assert pooled.receipts.wait_until_full(WAIT_S)
    pooled.receipts.stop()  # nothing refills: the pool's four, then derived ones
    receipts = [fresh_receipt(pooled)[0] for _ in range(8)]
    assert len(set(receipts)) == 8


def test_a_report_takes_a_receipt_made_ahead_and_follow_up_finds_it(
    settings: Settings, loaded_routing: str, kdf_cost: KdfCost
) -> None:
    app = create_app(
        settings.model_copy(update={"receipt_pool": 3}), channels=installed(), receipt_cost=kdf_cost
    )
    with TestClient(app, base_url="https://intake.example.org") as client:
        context: AppContext = app.state.context
        assert context.receipts.wait_until_full(WAIT_S)
        ready = context.receipts._ready[0]  # the next one a report will take
        answer = client.post("/api/v1/reports", json=report())
        assert answer.status_code == 201
        assert answer.json()["receipt"] == format_receipt(ready[0])
        view = look_up(context, receipt_text=answer.json()["receipt"], source=None)
        assert view.case_ref == answer.json()["case_ref"]
    assert context.receipts.ready() == 0  # the lifespan's end forgets the rest


def test_the_server_setting_zero_turns_the_pool_off(
    settings: Settings, loaded_routing: str, kdf_cost: KdfCost
) -> None:
    app = create_app(
        settings.model_copy(update={"receipt_pool": 0}), channels=installed(), receipt_cost=kdf_cost
    )
    with TestClient(app, base_url="https://intake.example.org") as client:
        assert app.state.context.receipts.take() is None
        assert client.post("/api/v1/reports", json=report()).status_code == 201
