"""Text to bytes and back without letting secrets escape in Unicode errors.

`UnicodeEncodeError` and `UnicodeDecodeError` carry the whole object they
failed on (a passphrase, a message, a plaintext), and would print it in a
traceback or log line. These return None instead; callers raise their own
fixed-text error.
"""

from __future__ import annotations


def utf8_or_none(text: str) -> bytes | None:
    """`text` as UTF-8, or None when it holds lone surrogates."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return None


def text_or_none(data: bytes) -> str | None:
    """`data` decoded as UTF-8, or None when it is not UTF-8."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None
