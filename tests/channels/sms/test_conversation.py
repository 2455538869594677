"""The SMS conversation as a pure state machine: every step, keyword and bad answer."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from channels.sms import texts as t
from channels.sms.conversation import (
    Line,
    LookUpStatus,
    Outcome,
    State,
    Step,
    SubmitReport,
    advance,
)
from channels.sms.segments import segment_count
from intake.i18n import SHIPPED
from intake.reports.schemas import NARRATIVE_MAX, SHORT_TEXT_MAX

KE = Line("KE", ("sw", "en"))
SO = Line("SO", ("so",))
EVERY = Line("KE", SHIPPED)


def _check(outcome: Outcome) -> Outcome:
    for reply in outcome.replies:
        assert reply.strip()
        assert segment_count(reply) <= 3
    return outcome


def talk(line: Line, *texts: str, state: State | None = None) -> tuple[State | None, Outcome]:
    outcome = Outcome(state, (), "en")
    for text in texts:
        outcome = _check(advance(state, text, line))
        assert outcome.effect is None or text is texts[-1]
        state = outcome.state
    return state, outcome


def at(step: Step, language: str = "en", **fields: Any) -> State:
    base = State(step, language, "sexual_abuse", "anonymous", True, None, ("It happened.",))
    return replace(base, **fields)


def _text(language: str, message: str, **params: object) -> str:
    return t.SmsTexts(language).text(message, **params)


FULL = [
    pytest.param(
        KE,
        ["hello", "2", "harassment", "yes", "Amina W.", "no", "He came at night.", "done", "yes"],
        {"language": "en", "category": "sexual_harassment", "reporter_type": "named"},
        {"name": "Amina W.", "contact_me": False},
        id="en-words",
    ),
    pytest.param(
        KE,
        ["Habari", "Kiswahili", "1", "hapana", "ndiyo", "Alinidai pesa.", "tayari", "1"],
        {"language": "sw", "category": "sexual_exploitation", "reporter_type": "anonymous"},
        {"name": None, "contact_me": True},
        id="sw",
    ),
    pytest.param(
        SO,
        ["Salaan", "5", "maya", "haa", "Waxaa i takooray shaqaale.", "DHAMMAAD", "haa"],
        {"language": "so", "category": "discrimination", "reporter_type": "anonymous"},
        {"contact_me": True},
        id="so",
    ),
    pytest.param(
        EVERY,
        ["Bonjour", "francais", "Harcèlement sexuel", "oui", "Awa", "non", "Il a insisté.", "FINI"]
        + ["OUI"],
        {"language": "fr", "category": "sexual_harassment", "reporter_type": "named"},
        {"name": "Awa", "contact_me": False},
        id="fr-labels",
    ),
    pytest.param(
        EVERY,
        ["مرحبا", "٤", "٣", "لا", "نعم", "طلب مني مالا مقابل الطعام.", "تم", "نعم"],
        {"language": "ar", "category": "sexual_harassment", "reporter_type": "anonymous"},
        {"contact_me": True},
        id="ar-arabic-digits",
    ),
    pytest.param(
        EVERY,
        ["Hola", "Español", "6", "no", "si", "Cobró dinero.", "listo", "sí"],
        {"language": "es", "category": "fraud_corruption", "reporter_type": "anonymous"},
        {"contact_me": True},
        id="es",
    ),
]


@pytest.mark.parametrize(("line", "script", "clear", "sealed"), FULL)
def test_full_conversations_end_in_a_confirmed_report(
    line: Line, script: list[str], clear: dict[str, Any], sealed: dict[str, Any]
) -> None:
    state, outcome = talk(line, *script)
    assert isinstance(outcome.effect, SubmitReport)
    confirmed = outcome.effect.state
    assert confirmed.step is Step.CONFIRM
    for name, value in {**clear, **sealed}.items():
        assert getattr(confirmed, name) == value, name
    assert confirmed.account == (script[-3],)
    assert outcome.language == clear["language"]


def test_the_language_menu_comes_only_when_the_number_offers_several() -> None:
    state, outcome = talk(KE, "hi")
    assert state is not None
    assert state.step is Step.LANGUAGE
    assert outcome.replies[0].splitlines()[1:] == ["1. Kiswahili", "2. English"]
    state, outcome = talk(SO, "hi")
    assert state is not None
    assert state.step is Step.CATEGORY
    assert outcome.replies[0] == _text("so", t.WELCOME)
    assert outcome.replies[1].splitlines()[1] == "1. " + t.SmsTexts("so").label(
        t.CATEGORY_LABELS["sexual_exploitation"]
    )


@pytest.mark.parametrize("answer", ["0", "9", "99", "-1", "1.5", "", "   ", "🙂", "x" * 2000])
@pytest.mark.parametrize("step", [Step.CATEGORY, Step.REPORTER, Step.CONTACT, Step.CONFIRM])
def test_bad_and_out_of_range_answers_prompt_again(step: Step, answer: str) -> None:
    state = at(step)
    outcome = _check(advance(state, answer, KE))
    assert outcome.state == state
    assert outcome.effect is None
    assert outcome.replies[0].startswith(t.NOT_UNDERSTOOD)
    assert "\n1. " in outcome.replies[0]


@pytest.mark.parametrize("answer", ["3", "0", "English please", "sexual"])
def test_the_language_menu_is_sent_again_on_a_bad_answer(answer: str) -> None:
    state = at(Step.LANGUAGE, "sw")
    outcome = _check(advance(state, answer, KE))
    assert outcome.state == state
    assert outcome.replies[0].endswith("1. Kiswahili\n2. English")


def test_a_word_shared_by_two_options_is_not_a_choice() -> None:
    for ambiguous in ("sexual", "abuse"):
        assert advance(at(Step.CATEGORY), ambiguous, KE).state == at(Step.CATEGORY)
    chosen = advance(at(Step.CATEGORY), "Power", KE).state
    assert chosen is not None
    assert chosen.category == "abuse_of_authority"
    chosen = advance(at(Step.CATEGORY), " 2. ", KE).state
    assert chosen is not None
    assert chosen.category == "sexual_abuse"


ALL_STEPS = list(Step)


@pytest.mark.parametrize("step", ALL_STEPS)
@pytest.mark.parametrize("stop", ["STOP", "stop", " Stop "])
def test_stop_ends_the_conversation_at_every_step(step: Step, stop: str) -> None:
    outcome = _check(advance(at(step), stop, KE))
    assert outcome.state is None
    assert outcome.replies == (_text("en", t.STOPPED),)


@pytest.mark.parametrize("step", ALL_STEPS)
def test_help_explains_and_repeats_the_question_at_every_step(step: Step) -> None:
    state = at(step, "sw")
    outcome = _check(advance(state, "help", KE))
    assert outcome.state == state
    # Before a language is chosen, the English keyword answers in English.
    assert outcome.replies[0] == _text("en" if step is Step.LANGUAGE else "sw", t.HELP_TEXT)
    assert len(outcome.replies) == 2


@pytest.mark.parametrize("step", ALL_STEPS)
def test_status_looks_a_receipt_up_at_every_step_without_changing_it(step: Step) -> None:
    state = at(step)
    outcome = _check(advance(state, "Status 1234-5678 9012 3456", KE))
    assert outcome.state == state
    assert isinstance(outcome.effect, LookUpStatus)
    assert outcome.effect.receipt_text == "1234-5678 9012 3456"
    bare = _check(advance(state, "STATUS", KE))
    assert bare.effect is None
    assert bare.replies == (_text("en", t.STATUS_HOW),)


@pytest.mark.parametrize("language", SHIPPED)
def test_translated_keywords_work_and_pick_the_reply_language(language: str) -> None:
    texts = t.SmsTexts(language)
    line = Line("KE", (language, "en") if language != "en" else ("en",))
    stop = advance(at(Step.ACCOUNT, language), texts.keyword_name(t.STOP).lower(), line)
    assert stop.state is None
    assert stop.language == language
    status = advance(None, f"{texts.keyword_name(t.STATUS)} 1234 5678 9012 3456", line)
    assert isinstance(status.effect, LookUpStatus)
    assert status.language == language
    helping = advance(None, texts.keyword_name(t.HELP), line)
    assert helping.replies == (texts.text(t.HELP_TEXT),)
    assert helping.state is None
    english = advance(None, "HELP", Line("KE", (language, "en")))
    assert english.language == "en"


def test_another_languages_keyword_is_just_text_in_a_conversation() -> None:
    state = at(Step.ACCOUNT, "en")
    outcome = advance(state, "ACHA", KE)  # Swahili STOP, in an English conversation
    assert outcome.state is not None
    assert outcome.state.account == ("It happened.", "ACHA")


def test_status_followed_by_words_is_part_of_the_account() -> None:
    outcome = advance(at(Step.ACCOUNT), "Status of the camp leader: he threatened us", KE)
    assert outcome.effect is None
    assert outcome.state is not None
    assert outcome.state.account[-1] == "Status of the camp leader: he threatened us"


def test_done_in_english_works_in_every_language_and_needs_an_account() -> None:
    empty = at(Step.ACCOUNT, "sw", account=())
    outcome = _check(advance(empty, "DONE", KE))
    assert outcome.state == empty
    assert outcome.replies == (_text("sw", t.ACCOUNT_EMPTY),)
    blank = at(Step.ACCOUNT, "sw", account=("   ",))
    assert advance(blank, "done", KE).state == blank
    finished = _check(advance(at(Step.ACCOUNT, "sw"), "Done", KE))
    assert finished.state is not None
    assert finished.state.step is Step.CONFIRM


def test_no_at_the_summary_returns_to_the_account() -> None:
    state, outcome = talk(KE, "more detail", "DONE", "2", state=at(Step.ACCOUNT))
    assert state is not None
    assert state.step is Step.ACCOUNT
    assert outcome.replies == (_text("en", t.NOT_SENT),)
    state, outcome = talk(KE, "even more", "DONE", "1", state=state)
    assert isinstance(outcome.effect, SubmitReport)
    assert outcome.effect.state.account == ("It happened.", "more detail", "even more")


def test_a_long_account_over_many_messages_is_kept_whole_and_summarised() -> None:
    parts = [f"Part {index}: ✓ مرحبا 🙂 Ωmega — {'x' * 80}" for index in range(150)]
    state, outcome = talk(KE, *parts, state=at(Step.ACCOUNT, account=()))
    assert outcome.replies == (_text("en", t.RECEIVED),)
    assert state is not None
    assert state.account == tuple(parts)
    state, outcome = talk(KE, "DONE", state=state)
    summary_text = outcome.replies[0]
    assert segment_count(summary_text) <= 3
    assert "…" in summary_text
    assert summary_text.endswith(t.SmsTexts("en").label(t.NOT_YET_OPTION))


def test_the_account_stops_growing_at_the_narrative_limit() -> None:
    state = at(Step.ACCOUNT, account=("y" * (NARRATIVE_MAX - 10),))
    outcome = _check(advance(state, "z" * 10, KE))
    assert outcome.state == state
    assert outcome.replies == (_text("en", t.ACCOUNT_FULL),)
    fitting = advance(state, "z" * 9, KE).state
    assert fitting is not None
    assert len(fitting.narrative) == NARRATIVE_MAX


def test_the_account_is_kept_exactly_as_sent() -> None:
    texts = ["  Leading spaces, trailing too  ", "👩🏽‍⚕️ nurse & [boss] {x}\r\nline", "é\u0301"]
    state, _ = talk(KE, *texts, state=at(Step.ACCOUNT, account=()))
    assert state is not None
    assert state.account == tuple(texts)


def test_the_name_is_asked_again_when_empty_or_too_long() -> None:
    state = at(Step.NAME, reporter_type="named")
    assert advance(state, "  ", KE).state == state
    long = _check(advance(state, "n" * (SHORT_TEXT_MAX + 1), KE))
    assert long.state == state
    assert long.replies == (_text("en", t.TOO_LONG, max=SHORT_TEXT_MAX),)
    named = advance(state, "n" * SHORT_TEXT_MAX, KE).state
    assert named is not None
    assert named.step is Step.CONTACT


def test_choosing_anonymous_after_all_drops_a_name() -> None:
    state = at(Step.REPORTER, name="Old name")
    following = advance(state, "1", KE).state
    assert following is not None
    assert following.reporter_type == "anonymous"
    assert following.name is None


def test_a_long_first_message_is_kept_as_the_start_of_the_account() -> None:
    first = "A worker at the food distribution in block 4 asked my sister for sex."
    state, outcome = talk(SO, first, "1", "1", "1")
    assert state is not None
    assert state.account == (first,)
    assert outcome.replies == (_text("so", t.ASK_ACCOUNT_KEPT),)
    short, _ = talk(SO, "Hello there")
    assert short is not None
    assert short.account == ()


def test_unreadable_text_is_refused() -> None:
    state = at(Step.ACCOUNT)
    outcome = advance(state, "bad\x00byte", KE)
    assert outcome.state == state
    assert outcome.replies == (_text("en", t.UNREADABLE),)


def test_an_expired_conversation_starts_again_with_a_notice() -> None:
    outcome = _check(advance(None, "1", KE, expired_after_hours=24))
    assert outcome.replies[0] == _text("sw", t.EXPIRED, hours=24)
    assert outcome.state is not None
    assert outcome.state.step is Step.LANGUAGE


ANSWERS = st.one_of(
    st.sampled_from(["1", "2", "8", "9", "0", "yes", "no", "DONE", "HELP", "STATUS", "hapana"]),
    st.text(max_size=300),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(ANSWERS, max_size=25), st.sampled_from([KE, SO, EVERY]))
def test_any_sequence_of_messages_never_crashes_and_every_reply_fits(
    answers: list[str], line: Line
) -> None:
    state: State | None = None
    for answer in answers:
        outcome = _check(advance(state, answer, line))
        if isinstance(outcome.effect, SubmitReport):
            assert outcome.effect.state.narrative.strip()
            assert outcome.effect.state.category is not None
        state = outcome.state


@pytest.mark.parametrize(
    ("line", "script"),
    [
        pytest.param(KE, ["hi", "2", "1", "1"], id="anonymous"),
        pytest.param(KE, ["hi", "English", "2", "2", "Amina W."], id="named"),
        pytest.param(EVERY, ["hi", "5", "1", "1"], id="swahili"),
    ],
)
def test_the_account_right_after_the_name_question_is_kept_without_sms_replies(
    line: Line, script: list[str]
) -> None:
    """SPEC section 7's order has no SMS-replies question: a reporter who goes
    straight on to the account must still reach the receipt."""
    state, outcome = talk(line, *script)
    assert state is not None
    assert state.step is Step.CONTACT
    account = "The driver asked me for money at the gate."
    state, outcome = talk(line, account, "More about it later.", "DONE", state=state)
    assert state is not None
    assert state.step is Step.CONFIRM
    assert state.account == (account, "More about it later.")
    assert state.contact_me is False
    state, outcome = talk(line, "1", state=state)
    assert isinstance(outcome.effect, SubmitReport)
    assert outcome.effect.state.contact_me is False


@pytest.mark.parametrize("answer", ["ok", "no thanks", "maybe"])
def test_a_short_unclear_answer_to_the_sms_question_asks_again(answer: str) -> None:
    state = at(Step.CONTACT, account=())
    outcome = _check(advance(state, answer, KE))
    assert outcome.state == state
    assert outcome.replies[0].startswith(t.NOT_UNDERSTOOD)


# --- the organisation involved (SPEC 14) ---------------------------------------------------

KE_AGENCIES = Line("KE", ("sw", "en"), ("UNICEF", "WFP"))


@pytest.mark.parametrize(
    ("answer", "affiliation"),
    [("1", "UNICEF"), ("2", "WFP"), ("wfp", "WFP"), ("3", "unknown"), ("I do not know", "unknown")],
)
def test_the_organisation_is_asked_after_the_category(answer: str, affiliation: str) -> None:
    state, outcome = talk(KE_AGENCIES, "hello", "2", "1")
    assert state is not None
    assert state.step is Step.ORGANISATION
    assert outcome.replies == (
        "\n".join([_text("en", t.CHOOSE_ORGANISATION), "1. UNICEF", "2. WFP", "3. I do not know"]),
    )
    state, outcome = talk(KE_AGENCIES, answer, state=state)
    assert state is not None
    assert (state.step, state.affiliation) == (Step.REPORTER, affiliation)


def test_a_wrong_organisation_answer_asks_again_and_help_repeats_the_question() -> None:
    state, _outcome = talk(KE_AGENCIES, "hello", "2", "1")
    again, outcome = talk(KE_AGENCIES, "9", state=state)
    assert again == state
    assert outcome.replies[0].startswith(_text("en", t.NOT_UNDERSTOOD))
    _same, helped = talk(KE_AGENCIES, "HELP", state=state)
    assert helped.replies[-1].startswith(_text("en", t.CHOOSE_ORGANISATION))


def test_a_number_whose_country_has_no_agency_skips_the_question() -> None:
    state, outcome = talk(KE, "hello", "2", "1")
    assert state is not None
    assert (state.step, state.affiliation) == (Step.REPORTER, "unknown")


def test_the_chosen_organisation_reaches_the_report() -> None:
    script = ["hello", "2", "1", "2", "1", "1", "It happened.", "DONE", "1"]
    _state, outcome = talk(KE_AGENCIES, *script)
    assert isinstance(outcome.effect, SubmitReport)
    assert outcome.effect.state.affiliation == "WFP"
