"""The call of SPEC 17 as a pure state machine: keys in, prompts and next state out.

`start(line)` answers a new call; `advance(state, keys, line)` one webhook of a
call in progress. Each returns an `Outcome`: the next state (None: forget the
call), the `Script` to answer with (prompts, then gather keys, record or hang
up), or an effect for the caller to carry out (store the report, look a
receipt up), after which `receipt_outcome` / `status_outcome` /
`not_saved_outcome` give the script. No HTTP, no database, no clock.

Order: language (when the number offers several), category, the account
after a tone, then the receipt read digit by digit twice, with a key to hear
it again. From the first menu, key 9 asks for the status of an earlier report.
`turn` counts the webhooks of a call; it travels in the action URL, so a
webhook is known by CallSid + turn + keys (exactly-once).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from channels.voice.prompts import Prompt, digit
from intake.vocab import CATEGORIES

STATUS_KEY = "9"
AGAIN_KEY = "1"
RECEIPT_DIGITS = 16
MAX_TRIES = 3
_CATEGORY_PROMPTS = tuple(Prompt(f"category_{category}") for category in CATEGORIES)


class Step(StrEnum):
    LANGUAGE = "language"
    CATEGORY = "category"
    RECORD = "record"
    RECEIPT = "receipt"
    STATUS = "status"


@dataclass(frozen=True)
class Line:
    """The called number: its country and the languages it offers (first: default)."""

    country: str
    languages: tuple[str, ...]


@dataclass(frozen=True, repr=False)
class State:
    step: Step
    language: str
    turn: int = 0
    category: str | None = None
    tries: int = 0
    receipt: str | None = None  # 16 digits, only while the receipt can be heard again


@dataclass(frozen=True)
class Keys:
    """What one webhook carries: the keys pressed, or the recording just made."""

    digits: str = ""
    recording_sid: str | None = None


@dataclass(frozen=True)
class Say:
    prompt: Prompt
    language: str


@dataclass(frozen=True)
class Pause:
    seconds: int = 1


Part = Say | Pause


@dataclass(frozen=True)
class Gather:
    num_digits: int = 1


@dataclass(frozen=True)
class Record:
    pass


@dataclass(frozen=True)
class Hangup:
    pass


Then = Gather | Record | Hangup


@dataclass(frozen=True, repr=False)
class Script:
    parts: tuple[Part, ...]
    then: Then
    turn: int = 0  # the turn the next webhook answers (its action URL carries it)


@dataclass(frozen=True, repr=False)
class SubmitReport:
    state: State
    recording_sid: str


@dataclass(frozen=True, repr=False)
class LookUpStatus:
    state: State
    receipt_text: str


Effect = SubmitReport | LookUpStatus


@dataclass(frozen=True, repr=False)
class Outcome:
    state: State | None
    script: Script | None = None
    effect: Effect | None = None


def start(line: Line) -> Outcome:
    if len(line.languages) > 1:
        return _ask(State(Step.LANGUAGE, line.languages[0]), line)
    return _ask(State(Step.CATEGORY, line.languages[0]), line, welcome=True)


def advance(state: State, keys: Keys, line: Line) -> Outcome:
    """One webhook of a call whose state is `state`."""
    if state.step is Step.LANGUAGE:
        return _language(state, keys.digits, line)
    if state.step is Step.CATEGORY:
        return _category(state, keys.digits, line)
    if state.step is Step.RECORD:
        if keys.recording_sid is None:
            return _ask(state, line, before=(Say(Prompt.NOTHING_RECORDED, state.language),))
        return Outcome(state, effect=SubmitReport(state, keys.recording_sid))
    if state.step is Step.RECEIPT:
        if keys.digits == AGAIN_KEY and state.receipt is not None:
            return receipt_outcome(state, state.receipt)
        return _goodbye(state)
    return _status(state, keys.digits, line)


def _language(state: State, digits: str, line: Line) -> Outcome:
    if digits == STATUS_KEY:
        return _ask(replace(state, step=Step.STATUS, tries=0), line)
    position = int(digits) if digits.isdigit() and len(digits) == 1 else 0
    if 1 <= position <= len(line.languages):
        chosen = replace(state, step=Step.CATEGORY, language=line.languages[position - 1])
        return _ask(replace(chosen, tries=0), line, welcome=True)
    return _retry(state, line, digits)


def _category(state: State, digits: str, line: Line) -> Outcome:
    if digits == STATUS_KEY:
        return _ask(replace(state, step=Step.STATUS, tries=0), line)
    position = int(digits) if digits.isdigit() and len(digits) == 1 else 0
    if 1 <= position <= len(CATEGORIES):
        chosen = replace(state, step=Step.RECORD, category=CATEGORIES[position - 1], tries=0)
        return _ask(chosen, line)
    return _retry(state, line, digits)


def _status(state: State, digits: str, line: Line) -> Outcome:
    typed = digits.replace("#", "").replace("*", "")
    if len(typed) == RECEIPT_DIGITS and typed.isdigit():
        return Outcome(state, effect=LookUpStatus(state, typed))
    return _retry(state, line, digits)


def _retry(state: State, line: Line, digits: str) -> Outcome:
    """A wrong key or none: the same menu again, at most MAX_TRIES times, then goodbye."""
    if state.tries + 1 >= MAX_TRIES:
        return _goodbye(state)
    sorry = (Say(Prompt.NOT_UNDERSTOOD, state.language),) if digits else ()
    return _ask(replace(state, tries=state.tries + 1), line, before=sorry)


def _ask(
    state: State, line: Line, *, welcome: bool = False, before: tuple[Part, ...] = ()
) -> Outcome:
    """The step's own prompt, as the answer to this turn."""
    nxt = replace(state, turn=state.turn + 1)
    opening = (Say(Prompt.WELCOME, state.language),) if welcome else ()
    parts, then = _MENUS[state.step](nxt, line)
    return Outcome(nxt, Script((*before, *opening, *parts), then, nxt.turn))


def _language_menu(state: State, line: Line) -> tuple[tuple[Part, ...], Then]:
    parts: list[Part] = []
    for position, language in enumerate(line.languages, start=1):
        parts += [Say(Prompt.LANGUAGE_OPTION, language), Say(digit(str(position)), language)]
    parts += _status_option(line.languages[0])
    return tuple(parts), Gather()


def _category_menu(state: State, line: Line) -> tuple[tuple[Part, ...], Then]:
    language = state.language
    parts: list[Part] = [Say(Prompt.CHOOSE_CATEGORY, language)]
    for position, prompt in enumerate(_CATEGORY_PROMPTS, start=1):
        parts += [Say(prompt, language), Say(digit(str(position)), language)]
    if len(line.languages) == 1:
        parts += _status_option(language)  # the first menu of a one-language number
    return tuple(parts), Gather()


def _status_option(language: str) -> list[Part]:
    return [Say(Prompt.STATUS_OPTION, language), Say(digit(STATUS_KEY), language)]


def _record_prompt(state: State, line: Line) -> tuple[tuple[Part, ...], Then]:
    return (Say(Prompt.RECORD, state.language),), Record()


def _status_prompt(state: State, line: Line) -> tuple[tuple[Part, ...], Then]:
    return (Say(Prompt.STATUS_ASK, state.language),), Gather(num_digits=RECEIPT_DIGITS)


_MENUS = {
    Step.LANGUAGE: _language_menu,
    Step.CATEGORY: _category_menu,
    Step.RECORD: _record_prompt,
    Step.STATUS: _status_prompt,
}


def _goodbye(state: State) -> Outcome:
    return Outcome(None, Script((Say(Prompt.GOODBYE, state.language),), Hangup()))


def receipt_outcome(state: State, receipt: str) -> Outcome:
    """The receipt, digit by digit, twice; then a key to hear it again."""
    digits = "".join(ch for ch in receipt if ch.isdigit())
    language = state.language
    nxt = replace(state, step=Step.RECEIPT, turn=state.turn + 1, receipt=digits, tries=0)
    spoken = _spoken_digits(digits, language)
    parts = (
        Say(Prompt.SAVED, language),
        *spoken,
        Pause(),
        Say(Prompt.RECEIPT_AGAIN, language),
        *spoken,
        Pause(),
        Say(Prompt.RECEIPT_KEEP, language),
        Say(digit(AGAIN_KEY), language),
    )
    return Outcome(nxt, Script(parts, Gather(), nxt.turn))


def _spoken_digits(digits: str, language: str) -> tuple[Part, ...]:
    parts: list[Part] = []
    for index, value in enumerate(digits):
        if index and index % 4 == 0:
            parts.append(Pause())
        parts.append(Say(digit(value), language))
    return tuple(parts)


STATUS_PROMPTS = {
    "routed": Prompt.STATUS_ROUTED,
    "acknowledged": Prompt.STATUS_ACKNOWLEDGED,
    "referred": Prompt.STATUS_REFERRED,
    "investigating": Prompt.STATUS_INVESTIGATING,
    "closed": Prompt.STATUS_CLOSED,
    "unknown": Prompt.STATUS_UNKNOWN,
    "limited": Prompt.STATUS_LIMITED,
}


def status_outcome(state: State, result: str) -> Outcome:
    """A case status (SPEC 4's words) or `unknown` / `limited`, then goodbye."""
    language = state.language
    said = (Say(STATUS_PROMPTS[result], language), Say(Prompt.GOODBYE, language))
    return Outcome(None, Script(said, Hangup()))


def not_saved_outcome(state: State) -> Outcome:
    return Outcome(None, Script((Say(Prompt.NOT_SAVED, state.language),), Hangup()))


def unknown_number_script(language: str) -> Script:
    return Script((Say(Prompt.UNKNOWN_NUMBER, language),), Hangup())
