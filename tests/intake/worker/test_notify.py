"""Focal point alerts over real loopback SMTP and HTTPS receivers."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import timedelta

import pytest
from pydantic import SecretStr
from testkit.clock import Clock
from testkit.outbox import ContextFactory, entry, notify_payload, put
from testkit.receivers import CERT_FILE, HttpsReceiver, SmtpReceiver

from intake.context import AppContext
from intake.settings import Settings
from intake.worker.delivery import DeliveryError
from intake.worker.notify import mail_recipients
from intake.worker.run import Worker


@pytest.fixture
def smtp() -> Iterator[SmtpReceiver]:
    with SmtpReceiver() as receiver:
        yield receiver


@pytest.fixture
def https(monkeypatch: pytest.MonkeyPatch) -> Iterator[HttpsReceiver]:
    """An HTTPS receiver whose test certificate the default SSL context trusts."""
    monkeypatch.setenv("SSL_CERT_FILE", str(CERT_FILE))
    with HttpsReceiver() as receiver:
        yield receiver


NO_MAIL_WARNING = (
    "no mail transport configured (INTAKE_SMTP_HOST, INTAKE_SMTP_FROM); "
    "mailto: alerts wait in the outbox until it is"
)


def with_smtp(settings: Settings, port: int, **changes: object) -> Settings:
    return settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "smtp_from": "intake@psea.example.org",
            "smtp_security": "none",
            **changes,
        }
    )


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_mailto_alert_is_mailed_and_says_only_case_and_deadline(
    settings: Settings, smtp: SmtpReceiver, make_context: ContextFactory
) -> None:
    context = make_context(with_smtp(settings, smtp.port))
    entry_id = put(context, "notify", notify_payload("mailto:ke-coordinator@example.org"))
    assert Worker(context).run_once().sent == 1
    (mail,) = smtp.mails
    assert mail.mail_from == "intake@psea.example.org"
    assert mail.rcpt_to == ("ke-coordinator@example.org",)
    assert mail.message["Subject"] == "[PSEA intake] New case C-0123456789AB"
    body = mail.message.get_content()
    assert body.startswith("A new case C-0123456789AB is waiting, due 2030-01-02T03:04:05Z.\n")
    assert "holds no case content" in body
    # The link to the case page, absolute with INTAKE_PUBLIC_URL (the test settings set it).
    assert "Open it: https://intake.example.org/inbox/cases/C-0123456789AB\n" in body
    assert entry(context, entry_id).sent_at is not None


def test_without_a_public_url_the_link_is_the_path(
    settings: Settings, smtp: SmtpReceiver, make_context: ContextFactory
) -> None:
    context = make_context(with_smtp(settings, smtp.port, public_url=None))
    put(context, "notify", notify_payload("mailto:a@example.org"))
    Worker(context).run_once()
    (mail,) = smtp.mails
    assert "Open it: /inbox/cases/C-0123456789AB\n" in mail.message.get_content()


def test_an_overdue_alert_reads_differently(
    settings: Settings, smtp: SmtpReceiver, make_context: ContextFactory
) -> None:
    context = make_context(with_smtp(settings, smtp.port))
    put(context, "notify", notify_payload("mailto:a@example.org", event="overdue"))
    Worker(context).run_once()
    (mail,) = smtp.mails
    assert mail.message["Subject"] == "[PSEA intake] Case C-0123456789AB is overdue"
    assert "is not yet acknowledged" in mail.message.get_content()


def test_a_reporter_reply_alert_says_only_that_a_message_came(
    settings: Settings, smtp: SmtpReceiver, make_context: ContextFactory
) -> None:
    context = make_context(with_smtp(settings, smtp.port))
    put(context, "notify", notify_payload("mailto:a@example.org", event="reporter_reply"))
    Worker(context).run_once()
    (mail,) = smtp.mails
    assert mail.message["Subject"] == "[PSEA intake] Reply on case C-0123456789AB"
    body = mail.message.get_content()
    assert "The reporter of case C-0123456789AB sent a message." in body
    assert "holds no case content" in body


def test_smtp_login_is_used_when_configured(
    settings: Settings, make_context: ContextFactory
) -> None:
    with SmtpReceiver(credentials=("relay-user", "relay-pass")) as smtp:
        good = with_smtp(
            settings, smtp.port, smtp_username="relay-user", smtp_password=SecretStr("relay-pass")
        )
        context = make_context(good)
        put(context, "notify", notify_payload("mailto:a@example.org"))
        assert Worker(context).run_once().sent == 1
        assert [mail.login for mail in smtp.mails] == ["relay-user"]
        bad = good.model_copy(update={"smtp_password": SecretStr("wrong")})
        other = make_context(bad)
        entry_id = put(other, "notify", notify_payload("mailto:b@example.org", event="overdue"))
        assert Worker(other).run_once().retried == 1
        assert entry(other, entry_id).last_error == "smtp_auth"


def test_a_temporary_smtp_refusal_is_retried_and_a_permanent_one_is_not(
    settings: Settings, smtp: SmtpReceiver, make_context: ContextFactory
) -> None:
    context = make_context(with_smtp(settings, smtp.port))
    clock = Clock()
    temporary = put(
        context, "notify", notify_payload("mailto:a@example.org"), available_at=clock.now
    )
    smtp.refuse_next_mail_from(1)
    worker = Worker(context, clock=clock)
    assert worker.run_once().retried == 1
    assert entry(context, temporary).last_error == "smtp_451"
    clock.advance(timedelta(seconds=15))
    assert worker.run_once().sent == 1
    permanent = put(
        context, "notify", notify_payload("mailto:b@example.org"), available_at=clock.now
    )
    smtp.refuse_next_rcpt(1)
    assert worker.run_once().failed == 1
    assert entry(context, permanent).last_error == "smtp_recipient"
    assert len(smtp.mails) == 1


def test_an_unreachable_mail_server_is_retried(
    settings: Settings, make_context: ContextFactory
) -> None:
    context = make_context(with_smtp(settings, closed_port()))
    entry_id = put(context, "notify", notify_payload("mailto:a@example.org"))
    assert Worker(context).run_once().retried == 1
    assert entry(context, entry_id).last_error == "smtp_unreachable"


def test_starttls_is_required_by_default(
    settings: Settings, smtp: SmtpReceiver, make_context: ContextFactory
) -> None:
    context = make_context(with_smtp(settings, smtp.port, smtp_security="starttls"))
    entry_id = put(context, "notify", notify_payload("mailto:a@example.org"))
    assert Worker(context).run_once().retried == 1
    assert entry(context, entry_id).last_error == "smtp_no_starttls"
    assert smtp.mails == []


def test_without_a_mail_transport_the_alert_waits_with_a_warning(
    context: AppContext, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    entry_id = put(
        context, "notify", notify_payload("mailto:a@example.org"), available_at=clock.now
    )
    worker = Worker(context, clock=clock)
    report = worker.run_once()
    assert (report.sent, report.failed, report.retried, report.waiting) == (0, 0, 0, 1)
    row = entry(context, entry_id)
    assert (row.last_error, row.attempts, row.failed_at, row.sent_at) == (
        "no_mail_transport",
        0,
        None,
        None,
    )
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert warnings == [NO_MAIL_WARNING]
    for _ in range(3):  # hours later, still waiting: never dropped, no attempt counted
        clock.advance(timedelta(hours=2))
        assert worker.run_once().failed == 0
    row = entry(context, entry_id)
    assert (row.attempts, row.failed_at, row.sent_at) == (0, None, None)
    assert [r.getMessage() for r in caplog.records if r.levelname == "WARNING"] == [
        NO_MAIL_WARNING
    ]  # once per warn_every_s, not once a pass


def test_an_alert_that_waited_is_sent_once_mail_is_configured(
    settings: Settings, smtp: SmtpReceiver, make_context: ContextFactory
) -> None:
    clock = Clock()
    without = make_context(settings)
    entry_id = put(
        without, "notify", notify_payload("mailto:a@example.org"), available_at=clock.now
    )
    assert Worker(without, clock=clock).run_once().waiting == 1
    # The worker restarted with mail set: the alert goes at once, not after the wait.
    with_mail = make_context(with_smtp(settings, smtp.port))
    assert Worker(with_mail, clock=clock).run_once().sent == 1
    assert len(smtp.mails) == 1
    row = entry(with_mail, entry_id)
    assert (row.attempts, row.last_error, row.failed_at) == (1, None, None)
    assert row.sent_at is not None


def test_waiting_mail_alerts_do_not_hold_up_other_alerts(
    context: AppContext, https: HttpsReceiver
) -> None:
    clock = Clock()
    for _ in range(25):  # more than a batch
        put(context, "notify", notify_payload("mailto:a@example.org"), available_at=clock.now)
    later = put(context, "notify", notify_payload(https.url("/a")), available_at=clock.now)
    report = Worker(context, clock=clock).run_once()
    assert (report.waiting, report.sent) == (25, 1)
    assert entry(context, later).sent_at is not None


def test_an_https_alert_posts_content_free_json(context: AppContext, https: HttpsReceiver) -> None:
    entry_id = put(context, "notify", notify_payload(https.url("/psea/alerts")))
    assert Worker(context).run_once().sent == 1
    (post,) = https.posts
    assert post.path == "/psea/alerts"
    assert post.content_type == "application/json"
    assert post.body == {
        "case_ref": "C-0123456789AB",
        "event": "new_case",
        "due_at": "2030-01-02T03:04:05Z",
        "focal_point": "ke-coordinator",
        "url": "https://intake.example.org/inbox/cases/C-0123456789AB",
    }
    assert entry(context, entry_id).sent_at is not None


@pytest.mark.parametrize(
    ("status", "outcome", "code"),
    [
        (503, "retried", "webhook_503"),
        (429, "retried", "webhook_429"),
        (404, "failed", "webhook_404"),
        (302, "failed", "webhook_302"),  # never followed: it could downgrade to http://
    ],
)
def test_https_refusals(
    context: AppContext, https: HttpsReceiver, status: int, outcome: str, code: str
) -> None:
    https.respond_next(status)
    entry_id = put(context, "notify", notify_payload(https.url()))
    report = Worker(context).run_once()
    assert getattr(report, outcome) == 1
    assert entry(context, entry_id).last_error == code
    assert len(https.posts) == 1


def test_an_untrusted_certificate_is_refused(context: AppContext) -> None:
    with HttpsReceiver() as https:  # SSL_CERT_FILE not pointed at the test certificate
        entry_id = put(context, "notify", notify_payload(https.url()))
        assert Worker(context).run_once().retried == 1
        assert https.posts == []
    assert entry(context, entry_id).last_error == "webhook_tls"


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        (notify_payload("tel:+254700000009"), "unsupported_address"),
        (notify_payload("http://example.org/hook"), "unsupported_address"),
        (notify_payload("mailto:not-an-address"), "bad_address"),
        (notify_payload("mailto:a@example.org", case_ref="C-1\r\nBcc: x@y"), "bad_payload"),
        (notify_payload("mailto:a@example.org", event="narrative"), "bad_payload"),
        ({"address": "mailto:a@example.org"}, "bad_payload"),
    ],
)
def test_bad_alerts_fail_for_good(context: AppContext, payload: dict[str, str], code: str) -> None:
    entry_id = put(context, "notify", payload)
    assert Worker(context).run_once().failed == 1
    assert entry(context, entry_id).last_error == code


def test_mailto_recipients() -> None:
    assert mail_recipients("mailto:a@example.org,b@example.org?subject=hi") == [
        "a@example.org",
        "b@example.org",
    ]
    assert mail_recipients("mailto:psea%2Bke@example.org") == ["psea+ke@example.org"]
    for bad in ("mailto:a@example.org%0D%0ABcc:x@example.org", "mailto:", "mailto:a@b@c"):
        with pytest.raises(DeliveryError, match="bad_address"):
            mail_recipients(bad)
