"""The SMS conversation of SPEC section 7 as a pure state machine.

`advance(state, text, line)` takes the stored state (None: no conversation),
one inbound text and the receiving number's facts, and returns the next state
(None: delete it), the reply texts and at most one effect for the caller to
carry out (submit the report, look a receipt up). No HTTP, no database, no
clock: the caller owns all of those, which keeps every path testable here.

Order: language (when the number offers several), category, the
organisation involved (the agencies of the number's country, or "do not
know"; skipped when the table names none), named or anonymous (then the
name), consent to SMS replies, the account over any number of messages ended
by DONE, a summary to confirm (category, name or not, the account's first 40
characters and its length: never the whole account), then the receipt.
STATUS, REPLY, HELP and STOP work at every step.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from channels.sms import texts as t
from channels.sms.segments import clip, fit_middle, fits, is_gsm7
from channels.sms.texts import Menu, Option, SmsTexts
from intake.i18n import language_info
from intake.reports.schemas import NARRATIVE_MAX, SHORT_TEXT_MAX

ACCOUNT_SEPARATOR = "\n"
# A first message this long is probably the account itself: keep it, don't drop it.
FIRST_MESSAGE_KEPT_FROM = 60
# An answer of this many words to the SMS-replies question is the account, not an answer.
ACCOUNT_FROM_WORDS = 3
# The summary shows the account's first characters only: the whole account would
# then sit in the phone's inbox (SPEC 14).
ACCOUNT_SHOWN = 40
UNKNOWN_AFFILIATION = "unknown"


class Step(StrEnum):
    LANGUAGE = "language"
    CATEGORY = "category"
    ORGANISATION = "organisation"
    REPORTER = "reporter"
    NAME = "name"
    CONTACT = "contact"
    ACCOUNT = "account"
    CONFIRM = "confirm"


@dataclass(frozen=True)
class Line:
    """The receiving number: its country, the shipped languages it offers (first: default)
    and the agency codes of its country in the routing table (the organisation question)."""

    country: str
    languages: tuple[str, ...]
    agencies: tuple[str, ...] = ()


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
    affiliation: str | None = None  # an agency code or "unknown" (SPEC 14)

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


def organisation_menu(texts: SmsTexts, line: Line) -> Menu:
    """The agencies of the number's country, then "I do not know"; as many as fit."""
    unknown = Option(UNKNOWN_AFFILIATION, texts.label(t.ORGANISATION_UNKNOWN))
    agencies = [Option(code, code) for code in line.agencies]
    while agencies:
        menu = Menu(texts.label(t.CHOOSE_ORGANISATION), (*agencies, unknown))
        if fits(menu.render()) and fits(menu.render(texts.label(t.NOT_UNDERSTOOD))):
            return menu
        agencies.pop()
    return Menu(texts.label(t.CHOOSE_ORGANISATION), (unknown,))


def _choose_organisation(texts: SmsTexts, line: Line, text: str) -> str | None:
    """A number or word of the menu, or any agency code of the country typed out."""
    chosen = organisation_menu(texts, line).choose(text)
    if chosen is not None:
        return chosen
    typed = t.normalize(text)
    return next((code for code in line.agencies if t.normalize(code) == typed), None)


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
    """The check before sending: category, name or not, consent, and the account's first
    ACCOUNT_SHOWN characters with its length (shortened further only to fit 3 SMS)."""
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
    narrative = state.narrative
    head += "\n" + texts.text(t.SUMMARY_ACCOUNT, length=len(narrative)) + " "
    shown = narrative if len(narrative) <= ACCOUNT_SHOWN else clip(narrative, ACCOUNT_SHOWN)
    if len(shown) < len(narrative):
        shown += "..." if is_gsm7(head + shown) else "…"  # "…" alone would force UCS-2
    return fit_middle(head, shown, "\n" + send_menu(texts).render())


def current_prompt(state: State, line: Line) -> str:
    """The question the reporter still has to answer (after HELP)."""
    texts = SmsTexts(state.language)
    prompts = {
        Step.LANGUAGE: lambda: language_menu(line),
        Step.CATEGORY: lambda: category_menu(texts).render(),
        Step.ORGANISATION: lambda: organisation_menu(texts, line).render(),
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
    if not line.agencies:
        following = replace(
            state, step=Step.REPORTER, category=chosen, affiliation=UNKNOWN_AFFILIATION
        )
        return _reply(following, texts.language, reporter_menu(texts).render())
    following = replace(state, step=Step.ORGANISATION, category=chosen)
    return _reply(following, texts.language, organisation_menu(texts, line).render())


def _on_organisation(state: State, text: str, line: Line) -> Outcome:
    texts = SmsTexts(state.language)
    chosen = _choose_organisation(texts, line, text)
    if chosen is None:
        return _again(state, organisation_menu(texts, line))
    following = replace(state, step=Step.REPORTER, affiliation=chosen)
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
    Step.ORGANISATION: _on_organisation,
    Step.REPORTER: _on_reporter,
    Step.NAME: _on_name,
    Step.CONTACT: _on_contact,
    Step.ACCOUNT: _on_account,
    Step.CONFIRM: _on_confirm,
}
