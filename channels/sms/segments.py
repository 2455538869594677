"""SMS segment counting: GSM-7 (with its extension table) or UCS-2 (SPEC section 9).

A text that only uses the GSM 03.38 basic and extension tables goes as GSM-7:
160 septets in one SMS, 153 per part once split; extension characters take
two septets (an escape and the character), and the pair is never split
across parts. Anything else goes as UCS-2: 70 UTF-16 code units alone, 67
per part; a character outside the BMP (most emoji) takes two units, and a
surrogate pair is never split either. Parts are packed greedily, as phones
and Twilio do, so the count is exact rather than a division.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")
MAX_SEGMENTS = 3
_JOINERS = frozenset("\u200d\ufe0e\ufe0f")  # ZWJ and variation selectors stay with their base


@dataclass(frozen=True)
class Encoding:
    name: str
    single: int  # units in a message that is not split
    part: int  # units in each part of a split message


GSM7 = Encoding("GSM-7", 160, 153)
UCS2 = Encoding("UCS-2", 70, 67)


def is_gsm7(text: str) -> bool:
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def encoding_of(text: str) -> Encoding:
    return GSM7 if is_gsm7(text) else UCS2


def _unit_costs(text: str, encoding: Encoding) -> list[int]:
    if encoding is GSM7:
        return [2 if ch in GSM7_EXTENSION else 1 for ch in text]
    return [2 if ord(ch) > 0xFFFF else 1 for ch in text]


def segment_count(text: str) -> int:
    """How many SMS parts `text` takes; an empty text still takes one."""
    encoding = encoding_of(text)
    costs = _unit_costs(text, encoding)
    if sum(costs) <= encoding.single:
        return 1
    parts, used = 1, 0
    for cost in costs:
        if used + cost > encoding.part:
            parts, used = parts + 1, 0
        used += cost
    return parts


def fits(text: str, max_segments: int = MAX_SEGMENTS) -> bool:
    if len(text) > max_segments * GSM7.single:  # every character takes at least one unit
        return False
    return segment_count(text) <= max_segments


def _ellipsis(prefix: str) -> str:
    # "…" is not GSM-7: adding it to a GSM-7 text would halve the room.
    return "..." if is_gsm7(prefix) else "…"


def _cut(text: str, length: int) -> str:
    """`text[:length]`, moved back so that no mark or joiner loses its base character."""
    while 0 < length < len(text) and (
        unicodedata.combining(text[length]) or text[length] in _JOINERS
    ):
        length -= 1
    return text[:length].rstrip()


def clip(text: str, length: int) -> str:
    """At most `length` code points of `text`, never parting a mark from its letter."""
    return _cut(text, length)


def fit_middle(head: str, middle: str, tail: str = "", max_segments: int = MAX_SEGMENTS) -> str:
    """`head + middle + tail`, with `middle` shortened (ending in an ellipsis) to fit.

    `head` and `tail` are kept whole; when even an empty middle does not fit,
    the middle is dropped and the result may still be too long (callers'
    tests make sure their fixed texts fit).
    """
    if fits(head + middle + tail, max_segments):
        return head + middle + tail
    # No more characters than septets in `max_segments` single SMS can fit: search less.
    middle = middle[: max_segments * GSM7.single]
    low, high = 0, len(middle)  # invariant: a cut at `low` fits, a cut at `high` does not
    while high - low > 1:
        mid = (low + high) // 2
        cut = _cut(middle, mid)
        if fits(head + cut + _ellipsis(head + cut + tail) + tail, max_segments):
            low = mid
        else:
            high = mid
    cut = _cut(middle, low)
    if not cut:
        return head + tail
    return head + cut + _ellipsis(head + cut + tail) + tail


def fit(text: str, max_segments: int = MAX_SEGMENTS) -> str:
    """`text`, truncated with an ellipsis when it takes more than `max_segments` parts."""
    return fit_middle("", text, "", max_segments)
