"""The call as a pure state machine: every path without HTTP, database or clock."""

from __future__ import annotations

from channels.voice.conversation import (
    MAX_TRIES,
    Gather,
    Hangup,
    Keys,
    Line,
    LookUpStatus,
    Outcome,
    Record,
    Say,
    State,
    Step,
    SubmitReport,
    advance,
    receipt_outcome,
    start,
    status_outcome,
)
from channels.voice.prompts import Prompt, digit

TWO = Line("KE", ("sw", "en"))
ONE = Line("SO", ("so",))
RECORDING = "RE" + "a" * 32


def _said(outcome: Outcome) -> list[Prompt]:
    assert outcome.script is not None
    return [part.prompt for part in outcome.script.parts if isinstance(part, Say)]


def _state(outcome: Outcome) -> State:
    assert outcome.state is not None
    return outcome.state


def test_a_number_with_several_languages_asks_for_the_language_each_in_its_own() -> None:
    first = start(TWO)
    assert first.script is not None
    assert isinstance(first.script.then, Gather)
    options = [p for p in first.script.parts if isinstance(p, Say)]
    assert options[:4] == [
        Say(Prompt.LANGUAGE_OPTION, "sw"),
        Say(digit("1"), "sw"),
        Say(Prompt.LANGUAGE_OPTION, "en"),
        Say(digit("2"), "en"),
    ]
    assert Prompt.STATUS_OPTION in _said(first)
    assert _state(first).turn == first.script.turn == 1


def test_one_language_starts_with_welcome_and_the_category_menu() -> None:
    first = start(ONE)
    said = _said(first)
    assert said[:2] == [Prompt.WELCOME, Prompt.CHOOSE_CATEGORY]
    assert Prompt.STATUS_OPTION in said  # the first menu leads to the status too
    assert _state(first).step is Step.CATEGORY


def test_language_category_record_then_the_report_is_submitted() -> None:
    state = _state(start(TWO))
    chosen = advance(state, Keys("2"), TWO)
    assert _state(chosen).language == "en"
    assert _state(chosen).step is Step.CATEGORY
    recording = advance(_state(chosen), Keys("3"), TWO)
    assert _state(recording).category == "sexual_harassment"
    assert recording.script is not None
    assert isinstance(recording.script.then, Record)
    submitted = advance(_state(recording), Keys("#", RECORDING), TWO)
    assert isinstance(submitted.effect, SubmitReport)
    assert submitted.effect.recording_sid == RECORDING
    assert submitted.effect.state.category == "sexual_harassment"


def test_no_recording_asks_again() -> None:
    state = State(Step.RECORD, "en", turn=3, category="other")
    again = advance(state, Keys("#"), TWO)
    assert again.effect is None
    assert _said(again)[:2] == [Prompt.NOTHING_RECORDED, Prompt.RECORD]
    assert _state(again).turn == 4


def test_wrong_keys_repeat_the_menu_then_say_goodbye() -> None:
    state = State(Step.CATEGORY, "en", turn=2)
    for _ in range(MAX_TRIES - 1):
        outcome = advance(state, Keys("0"), TWO)
        assert _said(outcome)[0] is Prompt.NOT_UNDERSTOOD
        state = _state(outcome)
    last = advance(state, Keys(""), TWO)
    assert last.state is None
    assert last.script is not None
    assert isinstance(last.script.then, Hangup)


def test_silence_repeats_the_menu_without_an_apology() -> None:
    outcome = advance(State(Step.LANGUAGE, "sw", turn=1), Keys(""), TWO)
    assert Prompt.NOT_UNDERSTOOD not in _said(outcome)
    assert _state(outcome).step is Step.LANGUAGE


def test_the_receipt_is_read_digit_by_digit_twice_with_a_key_to_hear_it_again() -> None:
    state = State(Step.RECORD, "en", turn=4, category="other")
    outcome = receipt_outcome(state, "1234 5678 9012 3456")
    said = _said(outcome)
    digits = [p for p in said if p.value.startswith("digit_")]
    expected = [digit(d) for d in "1234567890123456"]
    assert digits == expected + expected + [digit("1")]
    assert said[-2] is Prompt.RECEIPT_KEEP
    receipt_state = _state(outcome)
    assert receipt_state.step is Step.RECEIPT
    assert receipt_state.receipt == "1234567890123456"
    again = advance(receipt_state, Keys("1"), TWO)
    assert [p for p in _said(again) if p.value.startswith("digit_")] == digits
    done = advance(_state(again), Keys(""), TWO)
    assert done.state is None
    assert _said(done) == [Prompt.GOODBYE]


def test_key_9_leads_to_the_status_of_an_earlier_report() -> None:
    asked = advance(_state(start(TWO)), Keys("9"), TWO)
    assert _state(asked).step is Step.STATUS
    assert asked.script is not None
    assert asked.script.then == Gather(num_digits=16)
    typed = advance(_state(asked), Keys("1234567890123456#"), TWO)
    assert isinstance(typed.effect, LookUpStatus)
    assert typed.effect.receipt_text == "1234567890123456"
    short = advance(_state(asked), Keys("12345"), TWO)
    assert short.effect is None
    assert _said(short)[0] is Prompt.NOT_UNDERSTOOD


def test_every_status_has_a_prompt_and_then_goodbye() -> None:
    state = State(Step.STATUS, "en", turn=2)
    for result in ("routed", "acknowledged", "referred", "investigating", "closed"):
        outcome = status_outcome(state, result)
        assert _said(outcome) == [Prompt(f"status_{result}"), Prompt.GOODBYE]
        assert outcome.state is None
