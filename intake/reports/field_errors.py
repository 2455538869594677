"""Validation errors in the reporter's language.

`ReportIn` raises stable codes; this maps each code (and pydantic's own
generic types) to a gettext message, so the JSON API, the web form and the
SMS channel say the same thing in the same words. Never quotes the input.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from babel.support import NullTranslations


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "mark only"
    return message


MESSAGES: Mapping[str, str] = {
    "narrative_required": N_("Please describe what happened."),
    "narrative_too_long": N_("The account is too long: at most 20,000 characters."),
    "country_unknown": N_("Please choose a country from the list."),
    "language_invalid": N_("The language is not valid."),
    "affiliation_invalid": N_("Please choose an organisation from the list, or 'unknown'."),
    "date_invalid": N_("Please write the date as YYYY-MM-DD."),
    "date_in_future": N_("The date cannot be in the future."),
    "reporter_not_anonymous": N_("An anonymous report cannot include your name or contact."),
    "reporter_required": N_(
        "Please give your name or a way to contact you, or report anonymously."
    ),
    "nul_character": N_("The text contains a character that is not allowed."),
    "lone_surrogate": N_("The text contains a character that is not allowed."),
    "missing": N_("This information is required."),
    "extra_forbidden": N_("This field is not part of the form."),
    "too_long": N_("This text is too long."),
    "string_too_long": N_("This text is too long."),
    "literal_error": N_("Please choose one of the options."),
    "csrf_invalid": N_("The form expired. Please check your answers and send it again."),
    "bool_type": N_("Please choose one of the options."),
    "int_type": N_("Please write a number."),
    "greater_than_equal": N_("Please write an age from 0 to 130."),
    "less_than_equal": N_("Please write an age from 0 to 130."),
    "receipt_invalid": N_("Please type the 16 digits of your receipt number."),
    "receipt_unknown": N_("No report has this number. Please check the digits and try again."),
    "too_many_attempts": N_("Too many tries. Please wait a while and try again."),
    "too_many_reports": N_("Too many reports came from this connection. Please try again later."),
    "reply_empty": N_("Please write your message."),
    "reply_too_long": N_("Your message is too long: at most 5,000 characters."),
    "reply_invalid": N_("The text contains a character that is not allowed."),
    "too_many_replies": N_(
        "You sent many messages about this report today. Please try again tomorrow."
    ),
    "reply_form_expired": N_(
        "The page was open too long. Please type your receipt number again to send your message."
    ),
    "unavailable": N_("Reports cannot be received right now. Please try again later."),
    # SPEC 11: a report sealed in the reporter's browser
    "prepared_invalid": N_("This sealed report is not valid. Please start again."),
    "prepared_expired": N_("This sealed report waited too long. Please start again."),
    "prepared_used": N_("This sealed report was already sent."),
    "prepared_mismatch": N_("This answer changed after the report was sealed. Please start again."),
    "prepared_stale": N_("Where reports are sent has changed. Please start again."),
    "envelope_invalid": N_("The sealed report is damaged. Please start again."),
    "envelope_recipients": N_(
        "The sealed report is not locked for the right people. Please start again."
    ),
}
GENERIC = N_("This value is not valid.")


def message_for(error_type: str, translations: NullTranslations) -> str:
    return translations.gettext(MESSAGES.get(error_type, GENERIC))


def localized_errors(
    errors: Sequence[Mapping[str, Any]], translations: NullTranslations
) -> list[dict[str, Any]]:
    """Pydantic errors as `{loc, type, msg}` with `msg` translated; input dropped."""
    return [
        {
            "loc": _safe_loc(error),
            "type": str(error.get("type", "invalid")),
            "msg": message_for(str(error.get("type", "invalid")), translations),
        }
        for error in errors
    ]


def _safe_loc(error: Mapping[str, Any]) -> list[str]:
    """The error's path; an unknown field's name is submitted text, so it points at
    the object holding it instead (an error body never echoes what was sent)."""
    loc = [str(part) for part in error.get("loc", ()) if part != "body"]
    return loc[:-1] if error.get("type") == "extra_forbidden" else loc
