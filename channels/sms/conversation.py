"""The SMS conversation of SPEC section 7 as a pure state machine.

`advance(state, text, line)` takes the stored state (None: no conversation),
one inbound text and the receiving number's facts, and returns the next state
(None: delete it), the reply texts and at most one effect for the caller to
carry out (submit the report, look a receipt up). No HTTP, no database, no
clock: the caller owns all of those, which keeps every path testable here.

Order: language (when the number offers several), category, named or
anonymous (then the name), consent to SMS replies, the account over any
number of messages ended by DONE, a summary to confirm, then the receipt.
STATUS, REPLY, HELP and STOP work at every step.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from channels.sms import texts as t
from channels.sms.segments import fit, fit_middle, fits
from channels.sms.texts import Menu, Option, SmsTexts
from intake.i18n import language_info
from intake.reports.schemas import NARRATIVE_MAX, REPLY_MAX, SHORT_TEXT_MAX

ACCOUNT_SEPARATOR = "\n"
# A first message this long is probably the account itself: keep it, don't drop it.
FIRST_MESSAGE_KEPT_FROM = 60
# An answer of this many words to the SMS-replies question is the account, not an answer.
ACCOUNT_FROM_WORDS = 3


class Step(StrEnum):
    LANGUAGE = "language"
    CATEGORY = "category"
    REPORTER = "reporter"
    NAME = "name"
    CONTACT = "contact"
    ACCOUNT = "account"
    CONFIRM = "confirm"


@dataclass(frozen=True)
class Line:
    """The receiving number: its country and the shipped languages it offers (first: default)."""

    country: str
    languages: tuple[str, ...]


@dataclass(frozen=True, repr=False)
class State:
    """Choices so far (clear) and what the reporter wrote (`name`, `account`: sealed)."""

    step: Step
    language: str
    category: str | None = None
    reporter_type: str | None = None
    contact_me: bool | None = None
    name: str | None = None
    account: tuple[str, ...] = ()

    @property
    def narrative(self) -> str:
        return ACCOUNT_SEPARATOR.join(self.account)


@dataclass(frozen=True, repr=False)
class SubmitReport:
    state: State


@dataclass(frozen=True, repr=False)
class LookUpStatus:
    receipt_text: str


@dataclass(frozen=True, repr=False)
class SendReply:
    """`REPLY <receipt> <text>` (SPEC 16): the caller seals and stores the text."""

    receipt_text: str
    text: str


Effect = SubmitReport | LookUpStatus | SendReply


@dataclass(frozen=True, repr=False)
class Outcome:
    state: State | None
    replies: tuple[str, ...]
    language: str
    effect: Effect | None = None


def advance(
    state: State | None, text: str, line: Line, *, expired_after_hours: int | None = None
) -> Outcome:
    """One inbound text. `expired_after_hours`: a stored conversation just timed out."""
    candidates = _keyword_languages(state, line)
    stop = t.keyword_language(text, t.STOP, candidates)
    if stop is not None:
        return Outcome(None, (stop.text(t.STOPPED),), stop.language)
    helping = t.keyword_language(text, t.HELP, candidates)
    if helping is not None:
        prompt = () if state is None else (current_prompt(state, line),)
        return Outcome(state, (helping.text(t.HELP_TEXT), *prompt), helping.language)
    status = t.command(text, t.STATUS, candidates)
    if status is not None:
        texts, receipt_text = status
        if not receipt_text:
            return Outcome(state, (texts.text(t.STATUS_HOW),), texts.language)
        return Outcome(state, (), texts.language, LookUpStatus(receipt_text))
    replying = t.reply_command(text, candidates)
    if replying is not None:
        how, receipt, message = replying
        if receipt is None or not message.strip():
            return Outcome(state, (how.text(t.REPLY_HOW),), how.language)
        return Outcome(state, (), how.language, SendReply(receipt, message))
    texts = SmsTexts(state.language if state else line.languages[0])
    if "\x00" in text:
        return Outcome(state, (texts.text(t.UNREADABLE),), texts.language)
    if state is None:
        return _start(text, line, expired_after_hours)
    return _STEPS[state.step](state, text, line)


def _keyword_languages(state: State | None, line: Line) -> list[SmsTexts]:
    if state is None or state.step is Step.LANGUAGE:
        return [SmsTexts(language) for language in line.languages]
    return [SmsTexts(state.language)]


def _start(text: str, line: Line, expired_after_hours: int | None) -> Outcome:
    first = SmsTexts(line.languages[0])
    notice = (
        (first.text(t.EXPIRED, hours=expired_after_hours),)
        if expired_after_hours is not None
        else ()
    )
    kept = (text,) if len(text.strip()) >= FIRST_MESSAGE_KEPT_FROM else ()
    if len(line.languages) > 1:
        state = State(Step.LANGUAGE, line.languages[0], account=kept)
        return Outcome(state, (*notice, language_menu(line)), first.language)
    state = State(Step.CATEGORY, line.languages[0], account=kept)
    return Outcome(state, (*notice, *_welcome(first)), first.language)


def _welcome(texts: SmsTexts) -> tuple[str, str]:
    return texts.text(t.WELCOME), category_menu(texts).render()


def language_menu(line: Line) -> str:
    """Options by native name; the question in as many of the number's languages as fit."""
    menu = _language_choices(line)
    questions: list[str] = []
    for language in line.languages:
        candidate = " / ".join([*questions, SmsTexts(language).label(t.CHOOSE_LANGUAGE)])
        if questions and not fits(menu.render(candidate)):
            break
        questions.append(SmsTexts(language).label(t.CHOOSE_LANGUAGE))
    return menu.render(" / ".join(questions))


def _language_choices(line: Line) -> Menu:
    options = tuple(
        Option(code, language_info(code).native_name, frozenset({code})) for code in line.languages
    )
    return Menu("", options)


def category_menu(texts: SmsTexts) -> Menu:
    options = tuple(Option(code, texts.label(label)) for code, label in t.CATEGORY_LABELS.items())
    return Menu(texts.label(t.CHOOSE_CATEGORY), options)


def _yes_no(texts: SmsTexts, question: str, yes_label: str, no_label: str) -> Menu:
    yes_words, no_words = t.yes_no_words(texts)
    return Menu(
        question,
        (
            Option("yes", texts.label(yes_label), yes_words),
            Option("no", texts.label(no_label), no_words),
        ),
    )


def reporter_menu(texts: SmsTexts) -> Menu:
    yes_words, no_words = t.yes_no_words(texts)
    return Menu(
        texts.label(t.ASK_NAMED),
        (
            Option("anonymous", texts.label(t.ANONYMOUS_OPTION), no_words),
            Option("named", texts.label(t.NAMED_OPTION), yes_words),
        ),
    )


def contact_menu(texts: SmsTexts) -> Menu:
    return _yes_no(texts, texts.label(t.ASK_CONTACT), t.YES_OPTION, t.NO_OPTION)


def send_menu(texts: SmsTexts) -> Menu:
    return _yes_no(texts, texts.label(t.ASK_SEND), t.SEND_OPTION, t.NOT_YET_OPTION)


def summary(state: State) -> str:
    """The check before sending; the account is shortened to keep the menu whole."""
    texts = SmsTexts(state.language)
    category = t.CATEGORY_LABELS.get(state.category or "", t.CATEGORY_LABELS["other"])
    head = texts.text(
        t.SUMMARY,
        category=texts.label(category),
        reporter=texts.label(
            t.SUMMARY_NAMED if state.reporter_type == "named" else t.SUMMARY_ANONYMOUS
        ),
        contact=texts.label(t.YES_OPTION if state.contact_me else t.NO_OPTION),
    )
    head += "\n" + texts.label(t.SUMMARY_ACCOUNT) + " "
    return fit_middle(head, state.narrative, "\n" + send_menu(texts).render())


def current_prompt(state: State, line: Line) -> str:
    """The question the reporter still has to answer (after HELP)."""
    texts = SmsTexts(state.language)
    prompts = {
        Step.LANGUAGE: lambda: language_menu(line),
        Step.CATEGORY: lambda: category_menu(texts).render(),
        Step.REPORTER: lambda: reporter_menu(texts).render(),
        Step.NAME: lambda: texts.text(t.ASK_NAME),
        Step.CONTACT: lambda: contact_menu(texts).render(),
        Step.ACCOUNT: lambda: texts.text(t.ASK_ACCOUNT),
        Step.CONFIRM: lambda: summary(state),
    }
    return prompts[state.step]()


def _reply(state: State | None, language: str, *replies: str) -> Outcome:
    return Outcome(state, replies, language)


def _again(state: State, menu: Menu) -> Outcome:
    texts = SmsTexts(state.language)
    return _reply(state, texts.language, menu.render(texts.label(t.NOT_UNDERSTOOD)))


def _on_language(state: State, text: str, line: Line) -> Outcome:
    chosen = _language_choices(line).choose(text)
    if chosen is None:
        return _reply(state, state.language, language_menu(line))
    texts = SmsTexts(chosen)
    return _reply(replace(state, step=Step.CATEGORY, language=chosen), chosen, *_welcome(texts))


def _on_category(state: State, text: str, line: Line) -> Outcome:
    texts = SmsTexts(state.language)
    chosen = category_menu(texts).choose(text)
    if chosen is None:
        return _again(state, category_menu(texts))
    following = replace(state, step=Step.REPORTER, category=chosen)
    return _reply(following, texts.language, reporter_menu(texts).render())


def _on_reporter(state: State, text: str, line: Line) -> Outcome:
    texts = SmsTexts(state.language)
    chosen = reporter_menu(texts).choose(text)
    if chosen is None:
        return _again(state, reporter_menu(texts))
    if chosen == "named":
        following = replace(state, step=Step.NAME, reporter_type="named")
        return _reply(following, texts.language, texts.text(t.ASK_NAME))
    following = replace(state, step=Step.CONTACT, reporter_type="anonymous", name=None)
    return _reply(following, texts.language, contact_menu(texts).render())


def _on_name(state: State, text: str, line: Line) -> Outcome:
    texts = SmsTexts(state.language)
    if not text.strip():
        return _reply(state, texts.language, texts.text(t.ASK_NAME))
    if len(text) > SHORT_TEXT_MAX:
        return _reply(state, texts.language, texts.text(t.TOO_LONG, max=SHORT_TEXT_MAX))
    following = replace(state, step=Step.CONTACT, name=text)
    return _reply(following, texts.language, contact_menu(texts).render())


def _on_contact(state: State, text: str, line: Line) -> Outcome:
    texts = SmsTexts(state.language)
    chosen = contact_menu(texts).choose(text)
    if chosen is None and len(t.normalize(text).split()) >= ACCOUNT_FROM_WORDS:
        # SPEC section 7 goes from the name straight to the account: whoever does
        # so keeps what they wrote, and gets no SMS replies (the safe answer).
        following = replace(
            state, step=Step.ACCOUNT, contact_me=False, account=(*state.account, text)
        )
        return _reply(following, texts.language, texts.text(t.ASK_ACCOUNT_KEPT))
    if chosen is None:
        return _again(state, contact_menu(texts))
    following = replace(state, step=Step.ACCOUNT, contact_me=chosen == "yes")
    prompt = t.ASK_ACCOUNT_KEPT if state.account else t.ASK_ACCOUNT
    return _reply(following, texts.language, texts.text(prompt))


def _on_account(state: State, text: str, line: Line) -> Outcome:
    texts = SmsTexts(state.language)
    if t.is_keyword(text, t.DONE, [texts]):
        if not state.narrative.strip():
            return _reply(state, texts.language, texts.text(t.ACCOUNT_EMPTY))
        following = replace(state, step=Step.CONFIRM)
        return _reply(following, texts.language, summary(following))
    if not text.strip():
        return _reply(state, texts.language, texts.text(t.UNREADABLE))
    longer = (*state.account, text)
    if len(ACCOUNT_SEPARATOR.join(longer)) > NARRATIVE_MAX:
        return _reply(state, texts.language, texts.text(t.ACCOUNT_FULL))
    return _reply(replace(state, account=longer), texts.language, texts.text(t.RECEIVED))


def _on_confirm(state: State, text: str, line: Line) -> Outcome:
    texts = SmsTexts(state.language)
    chosen = send_menu(texts).choose(text)
    if chosen is None:
        return _again(state, send_menu(texts))
    if chosen == "yes":
        return Outcome(state, (), texts.language, SubmitReport(state))
    return _reply(replace(state, step=Step.ACCOUNT), texts.language, texts.text(t.NOT_SENT))


_STEPS = {
    Step.LANGUAGE: _on_language,
    Step.CATEGORY: _on_category,
    Step.REPORTER: _on_reporter,
    Step.NAME: _on_name,
    Step.CONTACT: _on_contact,
    Step.ACCOUNT: _on_account,
    Step.CONFIRM: _on_confirm,
}


# Replies after the caller carried out an effect.


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
