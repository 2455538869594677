"""Real receivers on loopback: a minimal SMTP server and an HTTPS endpoint.

`aiosmtpd` is not a dependency, so `SmtpReceiver` speaks just enough SMTP
(EHLO/HELO, AUTH PLAIN, MAIL, RCPT, DATA, RSET, NOOP, QUIT) over
socketserver for smtplib. `HttpsReceiver` serves TLS with the test-only
certificate in tests/testkit/tls/; point SSL_CERT_FILE at `CERT_FILE` so the
client under test trusts it through the normal default context.
"""

from __future__ import annotations

import base64
import email
import email.policy
import json
import socketserver
import ssl
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Self

TLS_DIR = Path(__file__).parent / "tls"
CERT_FILE = TLS_DIR / "loopback-test-only-cert.pem"
KEY_AND_CERT_FILE = TLS_DIR / "loopback-test-only.pem"


@dataclass(frozen=True)
class ReceivedMail:
    mail_from: str
    rcpt_to: tuple[str, ...]
    message: EmailMessage
    login: str | None


class _Loopback:
    """Start/stop a socketserver in a thread, as a context manager."""

    server: socketserver.BaseServer

    def _start(self) -> None:
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def __enter__(self) -> Self:
        self._start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)

    @property
    def port(self) -> int:
        address: Any = self.server.server_address
        return int(address[1])


@dataclass
class _SmtpState:
    mails: list[ReceivedMail] = field(default_factory=list)
    mail_from_replies: list[str] = field(default_factory=list)
    rcpt_replies: list[str] = field(default_factory=list)


class SmtpReceiver(_Loopback):
    def __init__(self, *, credentials: tuple[str, str] | None = None) -> None:
        self.credentials = credentials
        self._state = _SmtpState()
        self._lock = threading.Lock()
        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _smtp_handler(self))
        self.server.daemon_threads = True

    @property
    def mails(self) -> list[ReceivedMail]:
        with self._lock:
            return list(self._state.mails)

    def refuse_next_mail_from(self, count: int, reply: str = "451 4.3.0 try later") -> None:
        with self._lock:
            self._state.mail_from_replies.extend([reply] * count)

    def refuse_next_rcpt(self, count: int, reply: str = "550 5.1.1 no such mailbox") -> None:
        with self._lock:
            self._state.rcpt_replies.extend([reply] * count)

    def next_reply(self, verb: str) -> str | None:
        with self._lock:
            queue = self._state.mail_from_replies if verb == "MAIL" else self._state.rcpt_replies
            return queue.pop(0) if queue else None

    def accept(self, mail: ReceivedMail) -> None:
        with self._lock:
            self._state.mails.append(mail)


def _smtp_handler(receiver: SmtpReceiver) -> type[socketserver.StreamRequestHandler]:
    class Handler(socketserver.StreamRequestHandler):
        def reply(self, line: str) -> None:
            self.wfile.write(line.encode("ascii") + b"\r\n")

        def handle(self) -> None:
            self.mail_from = ""
            self.rcpt: list[str] = []
            self.login: str | None = None
            self.reply("220 loopback ESMTP test receiver")
            for raw in self.rfile:
                line = raw.decode("utf-8").rstrip("\r\n")
                verb, _, argument = line.partition(" ")
                if not self.dispatch(verb.upper(), argument):
                    return

        def dispatch(self, verb: str, argument: str) -> bool:
            if verb == "EHLO":
                self.reply("250-loopback")
                self.reply("250-8BITMIME")
                self.reply("250 AUTH PLAIN")
            elif verb in ("HELO", "NOOP"):
                self.reply("250 ok")
            elif verb == "RSET":
                self.mail_from, self.rcpt = "", []
                self.reply("250 ok")
            elif verb == "AUTH":
                self.auth(argument)
            elif verb == "MAIL":
                self.mail_from = argument.partition(":")[2].split()[0].strip("<>")
                self.reply(receiver.next_reply("MAIL") or "250 ok")
            elif verb == "RCPT":
                refusal = receiver.next_reply("RCPT")
                if refusal is None:
                    self.rcpt.append(argument.partition(":")[2].strip().strip("<>"))
                self.reply(refusal or "250 ok")
            elif verb == "DATA":
                self.data()
            elif verb == "QUIT":
                self.reply("221 bye")
                return False
            else:
                self.reply("502 not implemented")
            return True

        def auth(self, argument: str) -> None:
            mechanism, _, initial = argument.partition(" ")
            if mechanism.upper() != "PLAIN" or not initial:
                self.reply("504 unsupported")
                return
            _zid, user, password = base64.b64decode(initial).decode("utf-8").split("\0")
            if receiver.credentials == (user, password):
                self.login = user
                self.reply("235 authenticated")
            else:
                self.reply("535 5.7.8 bad credentials")

        def data(self) -> None:
            if receiver.credentials is not None and self.login is None:
                self.reply("530 authentication required")
                return
            self.reply("354 go ahead")
            lines: list[bytes] = []
            for raw in self.rfile:
                if raw in (b".\r\n", b".\n"):
                    break
                line = raw[1:] if raw.startswith(b"..") else raw
                lines.append(line.replace(b"\r\n", b"\n"))  # stored as a mailbox would
            message = email.message_from_bytes(b"".join(lines), policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            receiver.accept(ReceivedMail(self.mail_from, tuple(self.rcpt), message, self.login))
            self.mail_from, self.rcpt = "", []
            self.reply("250 queued")

    return Handler


@dataclass(frozen=True)
class ReceivedPost:
    path: str
    content_type: str
    body: Any


class HttpsReceiver(_Loopback):
    """Records JSON POSTs; `respond_next(status, n)` queues answers other than 204."""

    def __init__(self) -> None:
        self.posts: list[ReceivedPost] = []
        self._statuses: list[int] = []
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _https_handler(self))
        self.server.daemon_threads = True
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(KEY_AND_CERT_FILE)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)

    def url(self, path: str = "/hook") -> str:
        return f"https://127.0.0.1:{self.port}{path}"

    def respond_next(self, status: int, count: int = 1) -> None:
        with self._lock:
            self._statuses.extend([status] * count)

    def answer(self, post: ReceivedPost) -> int:
        with self._lock:
            self.posts.append(post)
            return self._statuses.pop(0) if self._statuses else 204


def _https_handler(receiver: HttpsReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            content_type = self.headers.get("Content-Type", "")
            status = receiver.answer(ReceivedPost(self.path, content_type, json.loads(raw)))
            self.send_response(status)
            if status in (301, 302, 307, 308):
                self.send_header("Location", "http://127.0.0.1:9/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return

    return Handler
