"""Logging that cannot carry sealed content, phone numbers, receipts or addresses.

Three walls, each enough on its own for its kind of leak:
1. Our own loggers (`intake`, `channels`, `crypto`, `routing`) log an event name
   only; `%`-arguments are never interpolated and extra fields pass only when
   their name is on an allow-list and their value is a number, a bool or a
   short code.
2. Exceptions are rendered as type names and frames (file, line, function),
   never their messages, which may quote a value.
3. Every message, from any library, is scrubbed of digit runs (phones,
   receipts), IP addresses and e-mail addresses before it is written.
Access logs come from our middleware (method, route, status, time), never
from uvicorn's, which would print the client address.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import traceback
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

OUR_LOGGERS = ("intake", "channels", "crypto", "routing")
SAFE_FIELDS = frozenset(
    {
        "case_ref",
        "channel",
        "status",
        "status_code",
        "method",
        "route",
        "duration_ms",
        "country",
        "category",
        "rule_id",
        "table_version",
        "count",
        "kind",
        "attempts",
        "outbox_id",
        "entry_id",
        "username",
        "role",
        "event",
        "workers",
        "port",
        "host",
        "path",
        "reason",
        "retry_in_s",
        "rejected",
        "imported",
        "skipped",
    }
)
_SAFE_VALUE = re.compile(r"^[A-Za-z0-9_.:/\-]{0,80}$")
_SCRUBBERS = (
    (re.compile(r"\b[\w.+-]+@[\w-]+(\.[\w-]+)+\b"), "[email]"),
    (re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b"), "[ip]"),
    (re.compile(r"(?<![\w:])(?:[0-9a-fA-F]{0,4}:){2,7}[0-9a-fA-F]{0,4}(?![\w:])"), "[ip]"),
    (re.compile(r"\+?\d[\d\s\-().]{5,}\d"), "[number]"),
)
ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


def scrub(text: str) -> str:
    for pattern, replacement in _SCRUBBERS:
        text = pattern.sub(replacement, text)
    return text


def _is_ours(name: str) -> bool:
    return name.split(".", 1)[0] in OUR_LOGGERS


def _safe_fields(record: logging.LogRecord) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for name in SAFE_FIELDS:
        value = record.__dict__.get(name)
        if isinstance(value, bool | int | float):
            fields[name] = value
        elif isinstance(value, str) and _SAFE_VALUE.match(value):
            fields[name] = scrub(value)
    return fields


def _exception_frames(exc_info: ExcInfo) -> str:
    exc_type, _exc, tb = exc_info
    frames = traceback.extract_tb(tb)
    where = " <- ".join(f"{frame.filename}:{frame.lineno}:{frame.name}" for frame in frames[-8:])
    return f"{exc_type.__name__} at {where}"


class SafeJsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        message = str(record.msg) if _is_ours(record.name) else record.getMessage()
        entry: dict[str, Any] = {
            "at": datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": scrub(message)[:500],
        }
        entry.update(_safe_fields(record))
        if record.exc_info and record.exc_info[0] is not None:
            entry["exc"] = _exception_frames(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str = "info") -> None:
    """Route every logger through the safe formatter (idempotent)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(SafeJsonFormatter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "sqlalchemy", "alembic"):
        library = logging.getLogger(name)
        library.handlers.clear()
        library.propagate = True
    logging.getLogger("uvicorn.access").disabled = True
    logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("twilio").setLevel(logging.WARNING)
