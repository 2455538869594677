"""The look-up lane (`intake.reports.lookup_lane`): bounded, niced, apart from reporters' KDF."""

from __future__ import annotations

import os
import sys
import threading
import time

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from testkit.cases import report

from intake.context import AppContext
from intake.followup.service import FollowupView, look_up
from intake.priority import LOOKUP_NICENESS
from intake.reports.lookup_lane import LookupLane, LookupsBusy

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
    deadline = time.monotonic() + WAIT_S  # a guard against hanging, not a measurement
    while time.monotonic() < deadline:
        with lock:
            if running >= 2:
                break
        time.sleep(0.01)
    time.sleep(0.1)  # room for a third to get in, were the lane wider
    go.set()
    for caller in callers:
        caller.join(WAIT_S)
    lane.close()
    assert most == 2


def test_past_the_backlog_a_call_is_refused_at_once_and_then_admitted_again() -> None:
    lane = LookupLane(1, backlog=2)
    go, inside = threading.Event(), threading.Semaphore(0)

    def hold() -> None:
        inside.release()
        go.wait(WAIT_S)

    callers = [threading.Thread(target=lane.run, args=(hold,)) for _ in range(3)]
    for caller in callers:
        caller.start()
    assert inside.acquire(timeout=WAIT_S)  # one runs; two more are admitted to wait
    deadline = time.monotonic() + WAIT_S  # a guard against hanging, not a measurement
    while lane._admitted._value > 0 and time.monotonic() < deadline:  # type: ignore[attr-defined]
        time.sleep(0.01)
    with pytest.raises(LookupsBusy):  # the fourth call: refused at once, not queued
        lane.run(lambda: None)
    go.set()
    for caller in callers:
        caller.join(WAIT_S)
    assert lane.run(lambda: "again") == "again"
    lane.close()


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
        assert not asker.is_alive(), "the look-up waited for a reporter's KDF slot"
    finally:
        release.set()
        for holder in holders:
            holder.join()
    assert [view.case_ref for view in found] == [filed["case_ref"]]
