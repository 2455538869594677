"""Every text and keyword of the SMS conversation, and how answers are matched.

Texts live in the gettext domain `sms` (locales/<ll>/LC_MESSAGES/sms.po) under
the contexts `sms` and `sms keyword`, so they never collide with a web page's
translation of the same English words. Extract with:

    pybabel extract -F locales/babel-sms.cfg -k pgettext_noop:1c,2 \
        --no-default-keywords -o locales/sms.pot .

A keyword's translation may list alternatives separated by `|`; the first is
the one texts show. English keywords work in every language (SPEC section 9).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from intake import i18n

TEXT = "sms"
KEYWORD = "sms keyword"


def pgettext_noop(context: str, message: str) -> str:
    """Marks a message for extraction; translated later, per reporter."""
    return message


# TRANSLATORS: keywords reporters type. Alternatives separated by "|"; the first is
# shown in texts. The English keyword works in every language anyway.
DONE = pgettext_noop("sms keyword", "DONE")
STATUS = pgettext_noop("sms keyword", "STATUS")
HELP = pgettext_noop("sms keyword", "HELP")
STOP = pgettext_noop("sms keyword", "STOP")
YES = pgettext_noop("sms keyword", "YES")
NO = pgettext_noop("sms keyword", "NO")
REPLY = pgettext_noop("sms keyword", "REPLY")
KEYWORDS = (DONE, STATUS, HELP, STOP, YES, NO, REPLY)

# TRANSLATORS: SMS texts. Keep them short and plain: each reply must fit 3 SMS
# (201 characters when a letter outside GSM-7 is used, as in Arabic).
WELCOME = pgettext_noop(
    "sms",
    "Welcome. Here you can report abuse or exploitation by aid workers, free and in "
    "confidence. Send %(help)s for help, %(stop)s to cancel.",
)
CHOOSE_LANGUAGE = pgettext_noop("sms", "Choose your language:")
CHOOSE_CATEGORY = pgettext_noop("sms", "What is your report about? Reply with a number:")
CHOOSE_ORGANISATION = pgettext_noop(
    "sms", "Which organisation does the person work for? Reply with a number:"
)
ORGANISATION_UNKNOWN = pgettext_noop("sms", "I do not know")
NOT_UNDERSTOOD = pgettext_noop("sms", "Sorry, I did not understand. Reply with a number:")
ASK_NAMED = pgettext_noop(
    "sms", "Do you want to give your name? Without it, your report is anonymous."
)
ANONYMOUS_OPTION = pgettext_noop("sms", "No, stay anonymous")
NAMED_OPTION = pgettext_noop("sms", "Yes, give my name")
ASK_NAME = pgettext_noop("sms", "Please send your name. You may add how to reach you.")
TOO_LONG = pgettext_noop("sms", "This is too long. Please send at most %(max)s characters.")
ASK_CONTACT = pgettext_noop("sms", "May we send you SMS messages about your report on this phone?")
YES_OPTION = pgettext_noop("sms", "Yes")
NO_OPTION = pgettext_noop("sms", "No")
ASK_ACCOUNT = pgettext_noop(
    "sms",
    "Tell us what happened: who, what, where and when. Use as many messages as you need. "
    "When you have finished, send %(done)s.",
)
ASK_ACCOUNT_KEPT = pgettext_noop(
    "sms",
    "We kept your first message. Add anything else about what happened, in as many "
    "messages as you need. When you have finished, send %(done)s.",
)
RECEIVED = pgettext_noop("sms", "Received. Send more, or send %(done)s when you have finished.")
ACCOUNT_EMPTY = pgettext_noop("sms", "Please tell us what happened first. Then send %(done)s.")
ACCOUNT_FULL = pgettext_noop(
    "sms", "Your account is at the maximum length. Send %(done)s to finish."
)
SUMMARY = pgettext_noop(
    "sms", "Please check. Report about: %(category)s. %(reporter)s. SMS replies: %(contact)s."
)
SUMMARY_ANONYMOUS = pgettext_noop("sms", "Anonymous")
SUMMARY_NAMED = pgettext_noop("sms", "With your name")
SUMMARY_ACCOUNT = pgettext_noop("sms", "What happened (%(length)s characters):")
ASK_SEND = pgettext_noop("sms", "Send this report?")
SEND_OPTION = pgettext_noop("sms", "Yes, send it")
NOT_YET_OPTION = pgettext_noop("sms", "No, not yet")
NOT_SENT = pgettext_noop(
    "sms", "Not sent. Add more to your account, then send %(done)s. Send %(stop)s to delete all."
)
RECEIPT = pgettext_noop(
    "sms",
    "Thank you. Your report was sent safely to the people who handle it. Your receipt "
    "number: %(receipt)s. Keep it secret. For news, send %(status)s and this number.",
)
NOT_SAVED = pgettext_noop(
    "sms", "Sorry, your report could not be saved now. Please send %(yes)s again later."
)
TOO_MANY_REPORTS = pgettext_noop(
    "sms", "Too many reports came from this phone. Please send %(yes)s again later."
)
STATUS_HOW = pgettext_noop(
    "sms", "To check a report, send %(status)s and the receipt number, like this: %(example)s"
)
STATUS_UNKNOWN = pgettext_noop(
    "sms", "No report has this receipt number. Please check it and try again."
)
STATUS_LIMITED = pgettext_noop("sms", "Too many tries. Please try again later.")
REPLY_HOW = pgettext_noop(
    "sms",
    "To send a message about your report, send %(reply)s, the receipt number and your "
    "message, like this: %(reply_example)s",
)
REPLY_SENT = pgettext_noop(
    "sms", "Thank you. Your message was sent safely to the people who handle your report."
)
REPLY_LIMITED = pgettext_noop(
    "sms", "You sent many messages about this report today. Please try again tomorrow."
)
STATUS_IS = pgettext_noop("sms", "Your report: %(state)s.")
STATUS_MESSAGE = pgettext_noop("sms", "Latest message for you:")
HELP_TEXT = pgettext_noop(
    "sms",
    "This service takes reports of abuse or exploitation by aid workers, in confidence. "
    "Answer with a number or a word. %(stop)s: cancel. %(status)s and your receipt "
    "number: news.",
)
STOPPED = pgettext_noop(
    "sms",
    "Stopped. Nothing was sent and your unfinished report was deleted. Send any message to "
    "start again.",
)
UNREADABLE = pgettext_noop(
    "sms", "Sorry, this message could not be read. Please send it again as text."
)
EXPIRED = pgettext_noop(
    "sms", "Your unfinished report was deleted after %(hours)s hours without messages."
)
UNKNOWN_NUMBER = pgettext_noop("sms", "Sorry, this number does not take reports.")

CATEGORY_LABELS: Mapping[str, str] = {
    "sexual_exploitation": pgettext_noop("sms", "Sexual exploitation"),
    "sexual_abuse": pgettext_noop("sms", "Sexual abuse"),
    "sexual_harassment": pgettext_noop("sms", "Sexual harassment"),
    "abuse_of_authority": pgettext_noop("sms", "Abuse of power"),
    "discrimination": pgettext_noop("sms", "Discrimination"),
    "fraud_corruption": pgettext_noop("sms", "Fraud or corruption"),
    "programme_feedback": pgettext_noop("sms", "Feedback on aid"),
    "other": pgettext_noop("sms", "Other"),
}
STATUS_LABELS: Mapping[str, str] = {
    "routed": pgettext_noop("sms", "received and sent to the focal point"),
    "acknowledged": pgettext_noop("sms", "seen by the focal point"),
    "referred": pgettext_noop("sms", "passed on for action"),
    "investigating": pgettext_noop("sms", "being investigated"),
    "closed": pgettext_noop("sms", "closed"),
}
RECEIPT_EXAMPLE = "1234 5678 9012 3456"
RECEIPT_DIGITS = 16
# Arabic letter variants, and the Persian yeh and keheh of Dari and Pashto keyboards
# (phones with an Arabic keyboard type ي and ك for them).
_ARABIC_FOLDS = str.maketrans(
    {"أ": "ا", "إ": "ا", "آ": "ا", "ة": "ه", "ى": "ي", "ی": "ي", "ک": "ك", "ـ": None}
)
_NUMBER = re.compile(r"\s*#?(\d{1,3})\s*[.)]?\s*")  # "2", "2.", "#2", "2)"


def normalize(text: str) -> str:
    """Comparable form of an answer: no case, accents, Arabic letter variants or edge marks.

    Words are letters, digits and the vowel signs that belong to them: in Bengali
    or Burmese a vowel sign is a mark, not a letter, and "না" must not become "ন".
    """
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    folded = bare.casefold().translate(_ARABIC_FOLDS)
    return " ".join("".join(ch if _in_word(ch) else " " for ch in folded).split())


def _in_word(char: str) -> bool:
    return char.isalnum() or unicodedata.category(char).startswith("M")


def language_of(language: str) -> str:
    return language if language in i18n.SHIPPED else i18n.DEFAULT_LANGUAGE


class SmsTexts:
    """The texts and keywords of one language (English keywords always work too)."""

    def __init__(self, language: str) -> None:
        self.language = language_of(language)
        self._translations = i18n.translations_for(self.language)

    def raw(self, context: str, message: str) -> str:
        return str(self._translations.pgettext(context, message))

    def keyword_forms(self, keyword: str, *, english: bool = True) -> tuple[str, ...]:
        """Normalized forms: this language's alternatives, then (unless told not) English."""
        forms = [normalize(form) for form in self.raw(KEYWORD, keyword).split("|")]
        if english:
            forms.append(normalize(keyword))
        return tuple(dict.fromkeys(form for form in forms if form))

    def keyword_name(self, keyword: str) -> str:
        return self.raw(KEYWORD, keyword).split("|")[0].strip() or keyword

    def text(self, message: str, **params: object) -> str:
        values: dict[str, object] = {
            "done": self.keyword_name(DONE),
            "status": self.keyword_name(STATUS),
            "help": self.keyword_name(HELP),
            "stop": self.keyword_name(STOP),
            "yes": self.keyword_name(YES),
            "reply": self.keyword_name(REPLY),
            "example": f"{self.keyword_name(STATUS)} {RECEIPT_EXAMPLE}",
            "reply_example": f"{self.keyword_name(REPLY)} {RECEIPT_EXAMPLE} ...",
        }
        values.update(params)
        return self.raw(TEXT, message) % values

    def label(self, message: str) -> str:
        return self.raw(TEXT, message)


def is_keyword(text: str, keyword: str, texts: Iterable[SmsTexts]) -> bool:
    answer = normalize(text)
    return any(answer in language.keyword_forms(keyword) for language in texts)


def keyword_language(text: str, keyword: str, candidates: Sequence[SmsTexts]) -> SmsTexts | None:
    """The language to answer `keyword` in, or None when `text` is not that keyword.

    A translated keyword names its language ("HALI" is Swahili); the English
    one picks English when offered, else the first candidate.
    """
    answer = normalize(text)
    for texts in candidates:
        if answer in texts.keyword_forms(keyword, english=False):
            return texts
    if answer != normalize(keyword):
        return None
    english = [texts for texts in candidates if texts.language == "en"]
    return english[0] if english else candidates[0]


def command(text: str, keyword: str, candidates: Sequence[SmsTexts]) -> tuple[SmsTexts, str] | None:
    """(language, digits) for `KEYWORD 1234 ...`; the digits may be empty.

    None when the text does not start with the keyword or more than digits,
    spaces and dashes follow: "Status of the camp..." is an account, not a command.
    """
    words = text.split(maxsplit=1)
    texts = keyword_language(words[0], keyword, candidates) if words else None
    if texts is None:
        return None
    rest = words[1].strip() if len(words) > 1 else ""
    return (texts, rest) if all(_receipt_like(ch) for ch in rest) else None


def reply_command(
    text: str, candidates: Sequence[SmsTexts]
) -> tuple[SmsTexts, str | None, str] | None:
    """(language, receipt, message) for `REPLY 1234 5678 9012 3456 message`.

    None when the text does not start with the keyword. The receipt is the
    first 16 digits (spaces and dashes between them are fine), or None when
    something else comes first; the message is the rest, exactly as written
    but for the spaces that separate it from the receipt.
    """
    words = text.split(maxsplit=1)
    texts = keyword_language(words[0], REPLY, candidates) if words else None
    if texts is None:
        return None
    rest = words[1] if len(words) > 1 else ""
    digits = 0
    for index, char in enumerate(rest):
        if char.isdecimal():
            digits += 1
            if digits == RECEIPT_DIGITS:
                return texts, rest[: index + 1], rest[index + 1 :].lstrip()
        elif not _receipt_like(char):
            break
    return texts, None, ""


def _receipt_like(char: str) -> bool:
    return char.isdecimal() or char.isspace() or unicodedata.category(char) == "Pd"


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    words: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Menu:
    """Numbered options; a number, the whole label or a word only one option has selects."""

    question: str
    options: tuple[Option, ...]

    def render(self, question: str | None = None) -> str:
        lines = [f"{index}. {option.label}" for index, option in enumerate(self.options, 1)]
        return "\n".join([self.question if question is None else question, *lines])

    def choose(self, text: str) -> str | None:
        number = _NUMBER.fullmatch(text)
        if number:
            chosen = int(number.group(1))  # int() reads Arabic-Indic digits too
            return self.options[chosen - 1].value if 1 <= chosen <= len(self.options) else None
        answer = normalize(text)
        for option in self.options:
            if answer == normalize(option.label):
                return option.value
        matches = [option.value for option, words in self._words() if answer in words]
        return matches[0] if len(matches) == 1 else None

    def _words(self) -> list[tuple[Option, set[str]]]:
        label_words = [
            {word for word in normalize(option.label).split() if len(word) >= 3}
            for option in self.options
        ]
        shared = {
            word
            for index, words in enumerate(label_words)
            for word in words
            if any(word in other for j, other in enumerate(label_words) if j != index)
        }
        return [
            (option, (words - shared) | set(option.words))
            for option, words in zip(self.options, label_words, strict=True)
        ]


def yes_no_words(texts: SmsTexts) -> tuple[frozenset[str], frozenset[str]]:
    return frozenset(texts.keyword_forms(YES)), frozenset(texts.keyword_forms(NO))
