"""Several workers at once (threads, one engine each) send every entry exactly once."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from testkit.fake_twilio import FakeTwilio
from testkit.outbox import ContextFactory, entries, put, sms_reply_payload, with_twilio

from intake.settings import Settings
from intake.worker.run import Worker, WorkerConfig

ENTRIES = 60


@pytest.mark.parametrize("batch_size", [1, 7])
def test_two_workers_send_each_reply_exactly_once(
    settings: Settings, fake_twilio: FakeTwilio, make_context: ContextFactory, batch_size: int
) -> None:
    fake_twilio.delay_s = 0.005  # slow sends, so the workers' claims interleave
    configured = with_twilio(settings, fake_twilio)
    contexts = [make_context(configured) for _ in range(3)]
    bodies = [f"reply number {n}" for n in range(ENTRIES)]
    for body in bodies:
        payload = sms_reply_payload(
            contexts[0].secret, to="+254711000000", sender="+254700000001", body=body
        )
        put(contexts[0], "sms_reply", payload)
    barrier = threading.Barrier(2)
    sent_by: list[int] = []

    def drain(index: int) -> None:
        worker = Worker(contexts[index + 1], config=WorkerConfig(batch_size=batch_size))
        barrier.wait()
        sent_by.append(worker.run_once().sent)

    threads = [threading.Thread(target=drain, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert Counter(message.body for message in fake_twilio.messages) == Counter(bodies)
    assert sum(sent_by) == ENTRIES
    rows = entries(contexts[0], "sms_reply")
    assert all(row.sent_at is not None and row.attempts == 1 for row in rows)
