"""Content-free alerts to focal points: mail for `mailto:`, a JSON POST for `https://`.

An alert names the case reference, the event and the deadline, nothing of
the report: the content stays sealed to the recipients' keys.
"""

from __future__ import annotations

import http.client
import json
import re
import smtplib
import ssl
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any
from urllib.parse import unquote

from pydantic import SecretStr

from intake.settings import Settings
from intake.worker.delivery import DeliveryError, http_failure, text_field

SMTP_TIMEOUT_S = 30.0
NO_MAIL_TRANSPORT = "no_mail_transport"
WEBHOOK_TIMEOUT_S = 10.0
_CASE_REF = re.compile(r"^C-[0-9A-Z]{12}$")
_STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
_FOCAL_POINT = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
_MAILBOX = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+$")
_SUBJECTS = {
    "new_case": "New case {case_ref}",
    "overdue": "Case {case_ref} is overdue",
    "reporter_reply": "Reply on case {case_ref}",
}
_BODIES = {
    "new_case": "A new case {case_ref} is waiting, due {due_at}.\n",
    "reporter_reply": "The reporter of case {case_ref} sent a message.\n",
    "overdue": (
        "Case {case_ref} is overdue: it was due {due_at} and is not yet acknowledged.\n"
        "You receive this as the coordinator for its country.\n"
    ),
}
_FOOTER = "\nThis message holds no case content. Open the case in the inbox with your key.\n"


@dataclass(frozen=True)
class Notice:
    """What an alert may say; every field is checked, so nothing else slips in."""

    case_ref: str
    event: str
    due_at: str
    focal_point: str

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> Notice:
        notice = cls(
            case_ref=text_field(payload, "case_ref"),
            event=text_field(payload, "event"),
            due_at=text_field(payload, "due_at"),
            focal_point=text_field(payload, "focal_point"),
        )
        if not (
            _CASE_REF.match(notice.case_ref)
            and notice.event in _BODIES
            and _STAMP.match(notice.due_at)
            and _FOCAL_POINT.match(notice.focal_point)
        ):
            raise DeliveryError("bad_payload", permanent=True)
        return notice

    def subject(self) -> str:
        return "[PSEA intake] " + _SUBJECTS[self.event].format(case_ref=self.case_ref)

    def link(self, base_url: str | None = None) -> str:
        """The case page in the inbox; absolute with INTAKE_PUBLIC_URL when set."""
        return f"{base_url or ''}/inbox/cases/{self.case_ref}"

    def text(self, base_url: str | None = None) -> str:
        body = _BODIES[self.event].format(case_ref=self.case_ref, due_at=self.due_at)
        return body + f"\nOpen it: {self.link(base_url)}\n" + _FOOTER

    def as_json(self, base_url: str | None = None) -> dict[str, str]:
        return {
            "case_ref": self.case_ref,
            "event": self.event,
            "due_at": self.due_at,
            "focal_point": self.focal_point,
            "url": self.link(base_url),
        }


_HASH = re.compile(r"^[0-9a-f]{64}$")
_HEAD_TEXT = (
    "The audit trail's newest entry is {seq} with hash {hash} ({at}).\n"
    "Keep this message. To check later that the trail was neither cut off nor rebuilt, run:\n"
    "    intake audit verify --head {seq}:{hash}\n"
)


@dataclass(frozen=True)
class HeadNotice:
    """The daily audit head (`intake.worker.audit_head`): seq, hash and minute only."""

    seq: int
    hash: str
    at: str

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> HeadNotice:
        seq = payload.get("seq")
        notice = cls(
            seq=seq if isinstance(seq, int) and not isinstance(seq, bool) else -1,
            hash=text_field(payload, "hash"),
            at=text_field(payload, "at"),
        )
        if notice.seq < 1 or not (_HASH.match(notice.hash) and _STAMP.match(notice.at)):
            raise DeliveryError("bad_payload", permanent=True)
        return notice

    def subject(self) -> str:
        return f"[PSEA intake] Audit trail head {self.seq}"

    def text(self, base_url: str | None = None) -> str:
        return _HEAD_TEXT.format(seq=self.seq, hash=self.hash, at=self.at) + _FOOTER

    def as_json(self, base_url: str | None = None) -> dict[str, str]:
        return {"event": "audit_head", "seq": str(self.seq), "hash": self.hash, "at": self.at}


def notice_from(payload: Mapping[str, Any]) -> Notice | HeadNotice:
    if payload.get("event") == "audit_head":
        return HeadNotice.from_payload(payload)
    return Notice.from_payload(payload)


@dataclass(frozen=True)
class MailTransport:
    host: str
    port: int
    sender: str
    security: str  # starttls | tls | none
    username: str | None = None
    password: SecretStr | None = field(default=None, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> MailTransport | None:
        if not settings.smtp_host or not settings.smtp_from:
            return None
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.smtp_from,
            security=settings.smtp_security,
            username=settings.smtp_username,
            password=settings.smtp_password,
        )


def mail_recipients(address: str) -> list[str]:
    """The mailboxes of a `mailto:` URI (RFC 6068), headers such as ?subject= ignored."""
    mailboxes = [unquote(part).strip() for part in address[7:].split("?", 1)[0].split(",")]
    if not mailboxes or not all(_MAILBOX.match(mailbox) for mailbox in mailboxes):
        raise DeliveryError("bad_address", permanent=True)
    return mailboxes


class NotifyHandler:
    """The "notify" kind: payload {case_ref, focal_point, address, event, due_at},
    or the daily audit head {event: "audit_head", address, seq, hash, at}."""

    def __init__(self, mail: MailTransport | None, *, base_url: str | None = None) -> None:
        self._mail = mail
        self._base_url = base_url

    @property
    def can_mail(self) -> bool:
        return self._mail is not None

    def __call__(self, payload: Mapping[str, Any]) -> None:
        address = text_field(payload, "address")
        notice = notice_from(payload)
        if address.startswith("mailto:"):
            recipients = mail_recipients(address)
            if self._mail is None:
                # Never dropped: the alert waits until mail is configured (SPEC 17).
                raise DeliveryError(NO_MAIL_TRANSPORT, waits=True)
            send_mail(self._mail, recipients, notice, base_url=self._base_url)
        elif address.startswith("https://"):
            post_json(address, notice.as_json(self._base_url))
        else:
            raise DeliveryError("unsupported_address", permanent=True)


def _message(
    transport: MailTransport,
    recipients: list[str],
    notice: Notice | HeadNotice,
    base_url: str | None,
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = transport.sender
    message["To"] = ", ".join(recipients)
    message["Subject"] = notice.subject()
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=transport.sender.rpartition("@")[2] or None)
    message.set_content(notice.text(base_url))
    return message


def _connect(transport: MailTransport) -> smtplib.SMTP:
    if transport.security == "tls":
        return smtplib.SMTP_SSL(
            transport.host,
            transport.port,
            timeout=SMTP_TIMEOUT_S,
            context=ssl.create_default_context(),
        )
    smtp = smtplib.SMTP(transport.host, transport.port, timeout=SMTP_TIMEOUT_S)
    if transport.security == "starttls":
        try:
            smtp.starttls(context=ssl.create_default_context())
        except BaseException:
            smtp.close()
            raise
    return smtp


def send_mail(
    transport: MailTransport,
    recipients: list[str],
    notice: Notice | HeadNotice,
    *,
    base_url: str | None = None,
) -> None:
    try:
        smtp = _connect(transport)
        try:
            if transport.username is not None:
                password = transport.password.get_secret_value() if transport.password else ""
                smtp.login(transport.username, password)
            smtp.send_message(_message(transport, recipients, notice, base_url))
        finally:
            _close(smtp)
    except smtplib.SMTPAuthenticationError:
        raise DeliveryError("smtp_auth") from None
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _text in exc.recipients.values()]
        raise DeliveryError("smtp_recipient", permanent=min(codes) >= 500) from None
    except smtplib.SMTPResponseException as exc:
        code = int(exc.smtp_code)
        raise DeliveryError(f"smtp_{code}", permanent=500 <= code < 600) from None
    except smtplib.SMTPNotSupportedError:
        raise DeliveryError("smtp_no_starttls") from None
    except ssl.SSLError:
        raise DeliveryError("smtp_tls") from None
    except (smtplib.SMTPException, OSError):
        raise DeliveryError("smtp_unreachable") from None


def _close(smtp: smtplib.SMTP) -> None:
    """QUIT after the message was accepted; a failure here must not cause a resend."""
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect could downgrade to http:// or turn the POST into a GET: refuse it."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def post_json(url: str, body: Mapping[str, str]) -> None:
    opener = urllib.request.build_opener(
        _NoRedirects, urllib.request.HTTPSHandler(context=ssl.create_default_context())
    )
    request = urllib.request.Request(  # noqa: S310 - only https:// reaches here
        url,
        data=json.dumps(dict(body), separators=(",", ":")).encode("utf-8"),
        headers={"Content-Type": "application/json", "User-Agent": "psea-intake-worker"},
        method="POST",
    )
    try:
        with opener.open(request, timeout=WEBHOOK_TIMEOUT_S) as response:
            response.read(4096)
    except urllib.error.HTTPError as exc:
        raise http_failure("webhook", exc.code) from None
    except ssl.SSLError:
        raise DeliveryError("webhook_tls") from None
    except urllib.error.URLError as exc:
        code = "webhook_tls" if isinstance(exc.reason, ssl.SSLError) else "webhook_unreachable"
        raise DeliveryError(code) from None
    except (OSError, http.client.HTTPException):
        raise DeliveryError("webhook_unreachable") from None
