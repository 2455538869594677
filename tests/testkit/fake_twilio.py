"""A fake Twilio REST API on loopback, for the real twilio Client to talk to.

A small real HTTP server in a thread. It checks HTTP basic auth (account
SID + auth token) as Twilio does, records the messages created and deleted,
serves call recordings (their audio at `.../Recordings/{RE}.wav`, deleted with
`DELETE .../Recordings/{RE}.json`) and deletes calls (`DELETE .../Calls/{CA}.json`),
answers Twilio's JSON shapes, and can be told to fail the next N requests
(500 or 429), or to answer slowly, so tests can prove retries, backoff and
exactly-once delivery without mocking any twilio class.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs

_PATH = re.compile(
    r"^/2010-04-01/Accounts/(?P<account>AC[0-9a-fA-F]{32})/Messages"
    r"(?:/(?P<sid>[A-Z]{2}[0-9a-fA-F]{32}))?\.json$"
)
_RESOURCE = re.compile(
    r"^/2010-04-01/Accounts/(?P<account>AC[0-9a-fA-F]{32})/(?P<kind>Recordings|Calls)"
    r"/(?P<sid>(?:RE|CA)[0-9a-f]{32})\.(?P<ext>json|wav)$"
)
_ERROR_CODES = {400: 21604, 401: 20003, 404: 20404, 429: 20429, 500: 20500, 503: 20503}


@dataclass(frozen=True)
class CreatedMessage:
    sid: str
    to: str
    from_: str
    body: str


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    status: int
    at: float  # time.monotonic() when answered


@dataclass(frozen=True)
class Binary:
    """A non-JSON answer (a recording's audio)."""

    data: bytes
    content_type: str


@dataclass
class _State:
    messages: list[CreatedMessage] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    known: set[str] = field(default_factory=set)
    requests: list[Seen] = field(default_factory=list)
    failures: list[int] = field(default_factory=list)
    recordings: dict[str, bytes] = field(default_factory=dict)
    calls: set[str] = field(default_factory=set)
    deleted_recordings: list[str] = field(default_factory=list)
    deleted_calls: list[str] = field(default_factory=list)


class FakeTwilio:
    def __init__(self, account_sid: str, auth_token: str, *, delay_s: float = 0.0) -> None:
        self.account_sid = account_sid
        self._auth = "Basic " + base64.b64encode(f"{account_sid}:{auth_token}".encode()).decode()
        self.delay_s = delay_s
        self._state = _State()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FakeTwilio:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # What tests arrange and read.
    def add_message(self, sid: str) -> None:
        """A message that exists at Twilio (an inbound one), so it can be deleted."""
        with self._lock:
            self._state.known.add(sid)

    def add_recording(self, recording_sid: str, audio: bytes, *, call_sid: str) -> None:
        """A call that Twilio recorded: the recording's audio and the call itself exist."""
        with self._lock:
            self._state.recordings[recording_sid] = audio
            self._state.calls.add(call_sid)

    @property
    def deleted_recordings(self) -> list[str]:
        with self._lock:
            return list(self._state.deleted_recordings)

    @property
    def deleted_calls(self) -> list[str]:
        with self._lock:
            return list(self._state.deleted_calls)

    def fail_next(self, count: int, status: int = 500) -> None:
        with self._lock:
            self._state.failures.extend([status] * count)

    @property
    def messages(self) -> list[CreatedMessage]:
        with self._lock:
            return list(self._state.messages)

    @property
    def deleted(self) -> list[str]:
        with self._lock:
            return list(self._state.deleted)

    @property
    def requests(self) -> list[Seen]:
        with self._lock:
            return list(self._state.requests)

    # Request handling (called from the server's threads).
    def handle(self, method: str, path: str, auth: str | None, form: str) -> tuple[int, Any]:
        if self.delay_s:
            time.sleep(self.delay_s)
        with self._lock:
            status, body = self._answer(method, path, auth, form)
            self._state.requests.append(Seen(method, path, status, time.monotonic()))
        return status, body

    def _answer(self, method: str, path: str, auth: str | None, form: str) -> tuple[int, Any]:
        if auth != self._auth:
            return _error(401)
        resource = _RESOURCE.match(path.split("?", 1)[0])
        if resource is not None and resource["account"] == self.account_sid:
            if self._state.failures:
                return _error(self._state.failures.pop(0))
            return self._resource(method, resource["kind"], resource["sid"], resource["ext"])
        match = _PATH.match(path.split("?", 1)[0])
        if match is None or match["account"] != self.account_sid:
            return _error(404)
        if self._state.failures:
            return _error(self._state.failures.pop(0))
        if method == "POST" and match["sid"] is None:
            return self._create(parse_qs(form, keep_blank_values=True))
        if method == "DELETE" and match["sid"] is not None:
            return self._delete(match["sid"])
        return _error(404)

    def _create(self, params: dict[str, list[str]]) -> tuple[int, Any]:
        to, sender, body = (params.get(name, [""])[0] for name in ("To", "From", "Body"))
        if not (to and sender and body):
            return _error(400)
        sid = "SM" + uuid.uuid4().hex
        self._state.messages.append(CreatedMessage(sid, to, sender, body))
        self._state.known.add(sid)
        resource = {
            "sid": sid,
            "account_sid": self.account_sid,
            "to": to,
            "from": sender,
            "body": body,
            "status": "queued",
            "direction": "outbound-api",
            "num_segments": "1",
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
        }
        return 201, resource

    def _delete(self, sid: str) -> tuple[int, Any]:
        if sid not in self._state.known:
            return _error(404)
        self._state.known.discard(sid)
        self._state.deleted.append(sid)
        return 204, None

    def _resource(self, method: str, kind: str, sid: str, ext: str) -> tuple[int, Any]:
        state = self._state
        if kind == "Recordings" and method == "GET" and ext == "wav":
            audio = state.recordings.get(sid)
            return (200, Binary(audio, "audio/x-wav")) if audio is not None else _error(404)
        if method != "DELETE" or ext != "json":
            return _error(404)
        if kind == "Recordings":
            if state.recordings.pop(sid, None) is None:
                return _error(404)
            state.deleted_recordings.append(sid)
            return 204, None
        if sid not in state.calls:
            return _error(404)
        state.calls.discard(sid)
        state.deleted_calls.append(sid)
        return 204, None


def _error(status: int) -> tuple[int, Any]:
    code = _ERROR_CODES.get(status, 20500)
    return status, {
        "code": code,
        "message": f"fake Twilio error {code}",
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def _handler_for(fake: FakeTwilio) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            form = self.rfile.read(length).decode("utf-8") if length else ""
            status, body = fake.handle(
                self.command, self.path, self.headers.get("Authorization"), form
            )
            kind = "application/json"
            if isinstance(body, Binary):
                data, kind = body.data, body.content_type
            else:
                data = b"" if body is None else json.dumps(body).encode("utf-8")
            self.send_response(status)
            if status == 429:
                self.send_header("Retry-After", "1")
            if data:
                self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_POST = do_DELETE = do_GET = _serve  # noqa: N815 - http.server's naming

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return  # quiet: the test reads `fake.requests` instead

    return Handler
