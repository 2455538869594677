"""Every prompt of the voice channel: its file name, its text, and how it is spoken.

A prompt is named once (`Prompt`): the name is the audio file's stem
(`INTAKE_VOICE_PROMPTS_DIR/<lang>/<name>.mp3`) and the text is its gettext
message in the `voice` domain (context `voice`, so that no web page's
translation of the same English words is used). Extract with:

    pybabel extract -F locales/babel-voice.cfg -k pgettext_noop:1c,2 \
        --no-default-keywords -o locales/voice.pot .

Numbers are never inside a text: keys, receipt digits and menu positions are
separate prompts (`digit_0` ... `digit_9`), so recorded files can say them too.
"""

from __future__ import annotations

from enum import StrEnum

from intake import i18n

CONTEXT = "voice"


def pgettext_noop(context: str, message: str) -> str:
    """Marks a message for extraction; translated later, per call."""
    return message


class Prompt(StrEnum):
    WELCOME = "welcome"
    LANGUAGE_OPTION = "language_option"
    STATUS_OPTION = "status_option"
    CHOOSE_CATEGORY = "choose_category"
    CATEGORY_SEXUAL_EXPLOITATION = "category_sexual_exploitation"
    CATEGORY_SEXUAL_ABUSE = "category_sexual_abuse"
    CATEGORY_SEXUAL_HARASSMENT = "category_sexual_harassment"
    CATEGORY_ABUSE_OF_AUTHORITY = "category_abuse_of_authority"
    CATEGORY_DISCRIMINATION = "category_discrimination"
    CATEGORY_FRAUD_CORRUPTION = "category_fraud_corruption"
    CATEGORY_PROGRAMME_FEEDBACK = "category_programme_feedback"
    CATEGORY_OTHER = "category_other"
    PRESS = "press"
    NOT_UNDERSTOOD = "not_understood"
    RECORD = "record"
    NOTHING_RECORDED = "nothing_recorded"
    SAVED = "saved"
    RECEIPT_AGAIN = "receipt_again"
    RECEIPT_KEEP = "receipt_keep"
    NOT_SAVED = "not_saved"
    STATUS_ASK = "status_ask"
    STATUS_ROUTED = "status_routed"
    STATUS_ACKNOWLEDGED = "status_acknowledged"
    STATUS_REFERRED = "status_referred"
    STATUS_INVESTIGATING = "status_investigating"
    STATUS_CLOSED = "status_closed"
    STATUS_UNKNOWN = "status_unknown"
    STATUS_LIMITED = "status_limited"
    UNKNOWN_NUMBER = "unknown_number"
    GOODBYE = "goodbye"
    DIGIT_0 = "digit_0"
    DIGIT_1 = "digit_1"
    DIGIT_2 = "digit_2"
    DIGIT_3 = "digit_3"
    DIGIT_4 = "digit_4"
    DIGIT_5 = "digit_5"
    DIGIT_6 = "digit_6"
    DIGIT_7 = "digit_7"
    DIGIT_8 = "digit_8"
    DIGIT_9 = "digit_9"


# TRANSLATORS: spoken on the phone, read by a speech voice or recorded by a person.
# Keep them short and plain; numbers are said separately after "press".
TEXTS: dict[Prompt, str] = {
    Prompt.WELCOME: pgettext_noop(
        "voice",
        "Welcome. Here you can report abuse or exploitation by aid workers, free and in "
        "confidence.",
    ),
    Prompt.LANGUAGE_OPTION: pgettext_noop("voice", "For English, press"),
    Prompt.STATUS_OPTION: pgettext_noop("voice", "To hear the status of an earlier report, press"),
    Prompt.CHOOSE_CATEGORY: pgettext_noop("voice", "What is your report about?"),
    Prompt.CATEGORY_SEXUAL_EXPLOITATION: pgettext_noop("voice", "For sexual exploitation, press"),
    Prompt.CATEGORY_SEXUAL_ABUSE: pgettext_noop("voice", "For sexual abuse, press"),
    Prompt.CATEGORY_SEXUAL_HARASSMENT: pgettext_noop("voice", "For sexual harassment, press"),
    Prompt.CATEGORY_ABUSE_OF_AUTHORITY: pgettext_noop("voice", "For abuse of power, press"),
    Prompt.CATEGORY_DISCRIMINATION: pgettext_noop("voice", "For discrimination, press"),
    Prompt.CATEGORY_FRAUD_CORRUPTION: pgettext_noop("voice", "For fraud or corruption, press"),
    Prompt.CATEGORY_PROGRAMME_FEEDBACK: pgettext_noop("voice", "For feedback about aid, press"),
    Prompt.CATEGORY_OTHER: pgettext_noop("voice", "For something else, press"),
    Prompt.PRESS: pgettext_noop("voice", "press"),
    Prompt.NOT_UNDERSTOOD: pgettext_noop("voice", "Sorry, that key is not in the menu."),
    Prompt.RECORD: pgettext_noop(
        "voice",
        "After the tone, tell us what happened: who, what, where and when. When you have "
        "finished, press the hash key to hear your receipt number.",
    ),
    Prompt.NOTHING_RECORDED: pgettext_noop("voice", "We did not hear anything. Let us try again."),
    Prompt.SAVED: pgettext_noop(
        "voice", "Thank you. Your report is saved. Your receipt number is:"
    ),
    Prompt.RECEIPT_AGAIN: pgettext_noop("voice", "Again, your receipt number is:"),
    Prompt.RECEIPT_KEEP: pgettext_noop(
        "voice",
        "Keep this number secret and safe. With it you can follow your report. To hear it "
        "again, press",
    ),
    Prompt.NOT_SAVED: pgettext_noop(
        "voice", "Sorry, your report could not be saved now. Please call again later."
    ),
    Prompt.STATUS_ASK: pgettext_noop(
        "voice", "Please type the 16 digits of your receipt number, then the hash key."
    ),
    Prompt.STATUS_ROUTED: pgettext_noop(
        "voice", "Your report was received and sent to the people who handle it."
    ),
    Prompt.STATUS_ACKNOWLEDGED: pgettext_noop(
        "voice", "Your report was received and someone is looking at it."
    ),
    Prompt.STATUS_REFERRED: pgettext_noop("voice", "Your report was passed on for action."),
    Prompt.STATUS_INVESTIGATING: pgettext_noop("voice", "Your report is being investigated."),
    Prompt.STATUS_CLOSED: pgettext_noop("voice", "Your report is closed."),
    Prompt.STATUS_UNKNOWN: pgettext_noop("voice", "We did not find this receipt number."),
    Prompt.STATUS_LIMITED: pgettext_noop("voice", "Too many tries. Please call again in an hour."),
    Prompt.UNKNOWN_NUMBER: pgettext_noop("voice", "Sorry, this number does not take reports."),
    Prompt.GOODBYE: pgettext_noop("voice", "Goodbye."),
    Prompt.DIGIT_0: pgettext_noop("voice", "zero"),
    Prompt.DIGIT_1: pgettext_noop("voice", "one"),
    Prompt.DIGIT_2: pgettext_noop("voice", "two"),
    Prompt.DIGIT_3: pgettext_noop("voice", "three"),
    Prompt.DIGIT_4: pgettext_noop("voice", "four"),
    Prompt.DIGIT_5: pgettext_noop("voice", "five"),
    Prompt.DIGIT_6: pgettext_noop("voice", "six"),
    Prompt.DIGIT_7: pgettext_noop("voice", "seven"),
    Prompt.DIGIT_8: pgettext_noop("voice", "eight"),
    Prompt.DIGIT_9: pgettext_noop("voice", "nine"),
}

# The SPEC's placeholder narrative of a voice case: ReportIn needs one, and the
# account itself follows as the audio attachment.
NARRATIVE = pgettext_noop("voice", "(spoken account: see the audio attachment)")


def digit(value: str) -> Prompt:
    return Prompt(f"digit_{value}")


def text(prompt: Prompt, language: str) -> str:
    """The prompt's words in `language` (English when the catalog lacks it)."""
    return _gettext(TEXTS[prompt], language)


def narrative(language: str) -> str:
    return _gettext(NARRATIVE, language)


def _gettext(message: str, language: str) -> str:
    return str(i18n.translations_for(language).pgettext(CONTEXT, message))


def has_catalog(language: str) -> bool:
    """Whether the `voice` domain is translated into `language` (not just English)."""
    return language in i18n.SHIPPED
