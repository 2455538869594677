"""The look-up lane (`intake.reports.lookup_lane`): bounded, niced, apart from reporters' KDF."""

from __future__ import annotations

import os
import sys
import threading

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from testkit.cases import report

from intake.context import AppContext
from intake.followup.service import FollowupView, look_up
from intake.priority import LOOKUP_NICENESS
from intake.reports.lookup_lane import LookupLane

WAIT_S = 30.0  # generous: the machine may be busy; nothing here measures time


def test_a_result_and_an_error_come_back_to_the_caller() -> None:
    lane = LookupLane(1)
    assert lane.run(lambda: 41 + 1) == 42
    with pytest.raises(ZeroDivisionError):
        lane.run(lambda: 1 // 0)
    lane.close()


def test_no_more_than_size_run_at_once() -> None:
    lane = LookupLane(2)
    running, most = 0, 0
    lock, go = threading.Lock(), threading.Event()

    def work() -> None:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        go.wait(WAIT_S)
        with lock:
            running -= 1

    callers = [threading.Thread(target=lane.run, args=(work,)) for _ in range(6)]
    for caller in callers:
        caller.start()
    while True:  # until two are inside; the other four queue behind them
        with lock:
            if running == 2:
                break
    go.set()
    for caller in callers:
        caller.join(WAIT_S)
    lane.close()
    assert most == 2


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread niceness is Linux")
def test_lane_threads_are_niced_and_the_caller_is_not() -> None:
    def niceness() -> int:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    before = niceness()
    lane = LookupLane(1)
    inside = lane.run(niceness)
    lane.close()
    assert inside == max(before, LOOKUP_NICENESS)
    assert niceness() == before


def test_a_follow_up_is_answered_while_every_reporter_kdf_slot_is_taken(
    app: FastAPI, client: TestClient
) -> None:
    filed = client.post("/api/v1/reports", json=report()).json()
    context: AppContext = app.state.context
    release = threading.Event()
    inside = threading.Semaphore(0)

    def hold() -> None:
        inside.release()
        release.wait(WAIT_S)

    holders = [
        threading.Thread(target=context.kdf.run, args=(hold,))
        for _ in range(context.settings.kdf_concurrency)
    ]
    for holder in holders:
        holder.start()
    for _ in holders:  # every reporter slot is now held
        assert inside.acquire(timeout=WAIT_S)
    found: list[FollowupView] = []
    try:
        asker = threading.Thread(
            target=lambda: found.append(
                look_up(context, receipt_text=filed["receipt"], source=None)
            )
        )
        asker.start()
        asker.join(WAIT_S)
    finally:
        release.set()
        for holder in holders:
            holder.join()
    assert [view.case_ref for view in found] == [filed["case_ref"]]
