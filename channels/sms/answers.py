"""The SMS answers after the caller carried out a conversation's effect.

Submitting the report, looking a receipt up (STATUS) and storing a reply
(REPLY) happen outside the pure conversation; these build what the reporter
is told then. None of them ever repeats a receipt typed in, or a reply's text.
"""

from __future__ import annotations

from channels.sms import texts as t
from channels.sms.segments import fit, fit_middle, fits
from channels.sms.texts import SmsTexts
from intake.reports.schemas import REPLY_MAX


def receipt_reply(language: str, receipt: str) -> str:
    return SmsTexts(language).text(t.RECEIPT, receipt=receipt)


def not_saved_reply(language: str, *, rate_limited: bool) -> str:
    return SmsTexts(language).text(t.TOO_MANY_REPORTS if rate_limited else t.NOT_SAVED)


def status_reply(language: str, status: str, latest_message: str | None) -> str:
    texts = SmsTexts(language)
    label = t.STATUS_LABELS.get(status)
    line = texts.text(t.STATUS_IS, state=texts.label(label) if label else status)
    if latest_message is None:
        return line
    return fit_middle(f"{line}\n{texts.label(t.STATUS_MESSAGE)} ", latest_message)


def status_failure_reply(language: str, *, reason: str) -> str:
    """`reason`: "invalid" (not a receipt), "unknown" or "limited"."""
    message = {"invalid": t.STATUS_HOW, "unknown": t.STATUS_UNKNOWN}.get(reason, t.STATUS_LIMITED)
    return SmsTexts(language).text(message)


def reply_result(language: str, *, reason: str) -> str:
    """The answer to REPLY; `reason`: "sent", "invalid" (not a receipt or no text),
    "too_long", "unreadable", "unknown", "limited" (look-ups) or "replies" (20 a day).
    Never the receipt or the text."""
    texts = SmsTexts(language)
    if reason == "too_long":
        return texts.text(t.TOO_LONG, max=REPLY_MAX)
    message = {
        "sent": t.REPLY_SENT,
        "invalid": t.REPLY_HOW,
        "unreadable": t.UNREADABLE,
        "unknown": t.STATUS_UNKNOWN,
        "replies": t.REPLY_LIMITED,
    }.get(reason, t.STATUS_LIMITED)
    return texts.text(message)


def unknown_number_reply(languages: tuple[str, ...]) -> str:
    """The same apology in as many languages as fit in one message."""
    lines: list[str] = []
    for language in dict.fromkeys(languages):
        candidate = SmsTexts(language).text(t.UNKNOWN_NUMBER)
        if lines and (candidate in lines or not fits("\n".join([*lines, candidate]))):
            continue
        lines.append(candidate)
    return fit("\n".join(lines))
