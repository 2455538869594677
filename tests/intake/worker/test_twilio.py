"""SMS replies and deletion at Twilio: the real twilio Client against a fake Twilio API."""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest
from testkit.clock import Clock
from testkit.fake_twilio import FakeTwilio
from testkit.outbox import (
    TWILIO_SID,
    ContextFactory,
    entry,
    put,
    sms_reply_payload,
    with_token,
    with_twilio,
)
from twilio.rest import Client

from channels.twilio_client import RebasedHttpClient, make_client, parse_api_base
from crypto.envelope import b64e
from crypto.secretbox import seal_draft
from crypto.server_secret import ServerSecret
from intake.context import AppContext
from intake.logs import SafeJsonFormatter
from intake.settings import Settings
from intake.worker.run import Worker

REPORTER = "+254711222333"
OUR_NUMBER = "+254700000001"
BODY = "Asante. Mtu wa kusaidia atakupigia simu kesho asubuhi. 🙏"
SID = "SM" + "a" * 32


def reply(context: AppContext, body: str = BODY) -> int:
    payload = sms_reply_payload(context.secret, to=REPORTER, sender=OUR_NUMBER, body=body)
    return put(context, "sms_reply", payload)


def logged(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(SafeJsonFormatter().format(record) for record in caplog.records)


def test_a_reply_is_sent_with_the_real_client_and_never_logged(
    settings: Settings,
    fake_twilio: FakeTwilio,
    make_context: ContextFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("DEBUG")
    context = make_context(with_twilio(settings, fake_twilio))
    entry_id = reply(context)
    assert Worker(context).run_once().sent == 1
    (message,) = fake_twilio.messages
    assert (message.to, message.from_, message.body) == (REPORTER, OUR_NUMBER, BODY)
    assert entry(context, entry_id).sent_at is not None
    text = logged(caplog) + caplog.text
    for secret in (REPORTER, OUR_NUMBER, "254711222333", "Asante", "kusaidia"):
        assert secret not in text
    assert '"kind": "sms_reply"' in logged(caplog)


@pytest.mark.parametrize(("status", "code"), [(500, "twilio_500"), (429, "twilio_429")])
def test_twilio_errors_are_retried_with_backoff_then_sent_once(
    settings: Settings,
    fake_twilio: FakeTwilio,
    make_context: ContextFactory,
    status: int,
    code: str,
) -> None:
    context = make_context(with_twilio(settings, fake_twilio))
    entry_id = reply(context)
    clock = Clock()
    fake_twilio.fail_next(2, status)
    worker = Worker(context, clock=clock)
    for attempt in (1, 2):
        assert worker.run_once().retried == 1
        row = entry(context, entry_id)
        assert (row.attempts, row.last_error) == (attempt, code)
        assert worker.run_once().retried == 0  # backing off: no request this pass
        clock.advance(row.available_at - clock.now)
    assert worker.run_once().sent == 1
    assert [seen.status for seen in fake_twilio.requests] == [status, status, 201]
    assert len(fake_twilio.messages) == 1


def test_a_wrong_auth_token_is_retried_as_a_fixable_error(
    settings: Settings, fake_twilio: FakeTwilio, make_context
) -> None:
    context = make_context(with_token(with_twilio(settings, fake_twilio), "not-the-token"))
    entry_id = reply(context)
    assert Worker(context).run_once().retried == 1
    assert entry(context, entry_id).last_error == "twilio_401"
    assert fake_twilio.messages == []


def test_a_request_twilio_refuses_fails_for_good(
    settings: Settings, fake_twilio: FakeTwilio, make_context
) -> None:
    context = make_context(with_twilio(settings, fake_twilio))
    entry_id = reply(context, body="")  # Twilio answers 400 to an empty body
    assert Worker(context).run_once().failed == 1
    row = entry(context, entry_id)
    assert (row.last_error, row.attempts) == ("twilio_400", 1)
    assert row.failed_at is not None


def test_a_reply_sealed_under_another_secret_fails_as_unsealable(
    settings: Settings, fake_twilio: FakeTwilio, make_context
) -> None:
    context = make_context(with_twilio(settings, fake_twilio))
    stranger = ServerSecret(b"\x07" * 32)
    payload = sms_reply_payload(stranger, to=REPORTER, sender=OUR_NUMBER, body=BODY)
    entry_id = put(context, "sms_reply", payload)
    assert Worker(context).run_once().failed == 1
    assert entry(context, entry_id).last_error == "unsealable"
    assert fake_twilio.requests == []


def test_an_unreachable_twilio_is_retried(settings: Settings, make_context: ContextFactory) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    changed = settings.model_copy(
        update={
            "twilio_account_sid": TWILIO_SID,
            "twilio_api_base": f"http://127.0.0.1:{closed_port}",
        }
    )
    context = make_context(changed)
    entry_id = reply(context)
    assert Worker(context).run_once().retried == 1
    assert entry(context, entry_id).last_error == "twilio_unreachable"


def test_a_processed_message_is_deleted_at_twilio(
    settings: Settings, fake_twilio: FakeTwilio, make_context
) -> None:
    context = make_context(with_twilio(settings, fake_twilio))
    fake_twilio.add_message(SID)
    entry_id = put(context, "twilio_redact", {"message_sid": SID})
    assert Worker(context).run_once().sent == 1
    assert fake_twilio.deleted == [SID]
    assert [(seen.method, seen.status) for seen in fake_twilio.requests] == [("DELETE", 204)]
    assert entry(context, entry_id).sent_at is not None


def test_a_sealed_message_sid_is_opened_only_to_delete_it(
    settings: Settings, fake_twilio: FakeTwilio, make_context
) -> None:
    context = make_context(with_twilio(settings, fake_twilio))
    fake_twilio.add_message(SID)
    sealed = b64e(seal_draft(context.secret, SID.encode()))
    entry_id = put(context, "twilio_redact", {"message_sid_sealed": sealed})
    assert SID not in entry(context, entry_id).payload
    assert Worker(context).run_once().sent == 1
    assert fake_twilio.deleted == [SID]


def test_a_message_already_gone_at_twilio_counts_as_deleted(
    settings: Settings, fake_twilio: FakeTwilio, make_context
) -> None:
    context = make_context(with_twilio(settings, fake_twilio))
    entry_id = put(context, "twilio_redact", {"message_sid": SID})
    assert Worker(context).run_once().sent == 1
    assert [seen.status for seen in fake_twilio.requests] == [404]
    assert entry(context, entry_id).last_error is None


def test_a_failed_deletion_is_retried(
    settings: Settings, fake_twilio: FakeTwilio, make_context
) -> None:
    context = make_context(with_twilio(settings, fake_twilio))
    fake_twilio.add_message(SID)
    fake_twilio.fail_next(1, 503)
    put(context, "twilio_redact", {"message_sid": SID})
    clock = Clock()
    worker = Worker(context, clock=clock)
    assert worker.run_once().retried == 1
    clock.advance(timedelta(seconds=15))
    assert worker.run_once().sent == 1
    assert fake_twilio.deleted == [SID]


def test_deletion_turned_off_consumes_the_entry_without_a_call(
    settings: Settings, fake_twilio: FakeTwilio, make_context
) -> None:
    changed = settings.model_copy(update={"twilio_delete_bodies": False})
    context = make_context(changed)  # no account SID either: nothing to call
    entry_id = put(context, "twilio_redact", {"message_sid": SID})
    assert Worker(context).run_once().sent == 1
    assert entry(context, entry_id).sent_at is not None
    assert fake_twilio.requests == []


def test_without_twilio_credentials_entries_wait_with_a_warning(
    context: AppContext, caplog: pytest.LogCaptureFixture
) -> None:
    assert context.settings.twilio_account_sid is None
    ids = [reply(context), put(context, "twilio_redact", {"message_sid": SID})]
    worker = Worker(context)
    report = worker.run_once()
    assert (report.sent, report.retried, report.failed, report.waiting) == (0, 0, 0, 2)
    assert [(entry(context, i).attempts, entry(context, i).sent_at) for i in ids] == [
        (0, None),
        (0, None),
    ]
    warnings = [r for r in caplog.records if r.levelname == "WARNING"]
    assert [r.getMessage() for r in warnings] == [
        "outbox entries wait for a transport that is not configured "
        "(for SMS: INTAKE_TWILIO_ACCOUNT_SID and INTAKE_TWILIO_AUTH_TOKEN)"
    ]
    worker.run_once()
    assert len([r for r in caplog.records if r.levelname == "WARNING"]) == 1  # not every pass


def test_the_http_client_rebases_only_twilio_hosts() -> None:
    client = RebasedHttpClient("http://127.0.0.1:8080/prefix/")
    assert (
        client.rebase("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json?x=1")
        == "http://127.0.0.1:8080/prefix/2010-04-01/Accounts/AC1/Messages.json?x=1"
    )
    assert client.rebase("https://api.dublin.ie1.twilio.com/x") == "http://127.0.0.1:8080/prefix/x"
    assert client.rebase("https://example.org/x") == "https://example.org/x"
    assert client.rebase("https://eviltwilio.com/x") == "https://eviltwilio.com/x"
    assert RebasedHttpClient(None).rebase("https://api.twilio.com/x") == "https://api.twilio.com/x"
    for bad in ("api.twilio.com", "ftp://host", "https://"):
        with pytest.raises(ValueError, match="INTAKE_TWILIO_API_BASE"):
            parse_api_base(bad)


def test_the_client_is_the_real_twilio_client(settings: Settings) -> None:
    client = make_client(settings.model_copy(update={"twilio_account_sid": TWILIO_SID}))
    assert isinstance(client, Client)
    assert isinstance(client.http_client, RebasedHttpClient)
