"""look_up: the receipt opens status and messages; failed guesses are capped in the DB."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypeVar

import pytest
from testkit.cases import case_by_ref

from crypto.keys import generate_keypair
from crypto.receipt import seal_to_public_key
from intake.context import AppContext
from intake.errors import InvalidInput, NotFound, TooManyRequests
from intake.followup.service import BUSY_RETRY_S, GLOBAL_SCOPE, SOURCE_SCOPE, look_up
from intake.models import CaseMessage, utcnow
from intake.reports.lookup_lane import LookupLane

T = TypeVar("T")
L = TypeVar("L", bound=LookupLane)
FileCase = Callable[..., tuple[str, str]]
AddMessage = Callable[[AppContext, str, str, datetime], None]
ContextFor = Callable[..., AppContext]
Counted = Callable[[AppContext, str], int]


class CountingLane(LookupLane):
    """The real look-up lane, counting the KDF runs asked of it."""

    def __init__(self) -> None:
        super().__init__(1)
        self.runs = 0

    def run(self, function: Callable[[], T]) -> T:
        self.runs += 1
        return super().run(function)


def _counting(context: AppContext) -> CountingLane:
    return _install_lane(context, CountingLane())


def _install_lane(context: AppContext, lane: L) -> L:
    context.lookups.close()
    context.lookups = lane
    return lane


def _guess() -> str:
    return f"{secrets.randbelow(10**16):016d}"


def _source() -> bytes:
    return secrets.token_bytes(32)


def test_the_receipt_opens_status_and_messages_oldest_first(
    context: AppContext, file_case: FileCase, add_message: AddMessage
) -> None:
    case_ref, receipt = file_case(context)
    now = utcnow()
    add_message(context, case_ref, "Second: we referred it.", now)
    add_message(context, case_ref, "First: we received it. شكرا", now - timedelta(hours=1))
    view = look_up(context, receipt_text=receipt, source=_source())
    assert view.case_ref == case_ref
    assert view.status == "routed"
    assert [message.text for message in view.messages] == [
        "First: we received it. شكرا",
        "Second: we referred it.",
    ]
    assert view.updated_at >= view.messages[-1].at
    assert "received it" not in repr(view)


@pytest.mark.parametrize(
    "spell",
    [
        lambda digits: digits,
        lambda digits: "-".join(digits[i : i + 4] for i in range(0, 16, 4)),
        lambda digits: f"  {digits[:3]} {digits[3:9]}--{digits[9:]}\n",
        lambda digits: "\u00a0".join(digits[i : i + 4] for i in range(0, 16, 4)),
    ],
)
def test_a_receipt_is_accepted_with_any_spaces_or_dashes(
    context: AppContext, file_case: FileCase, spell: Callable[[str], str]
) -> None:
    case_ref, receipt = file_case(context)
    typed = spell(receipt.replace(" ", ""))
    assert look_up(context, receipt_text=typed, source=_source()).case_ref == case_ref


@pytest.mark.parametrize("text", ["", "1234 5678 9012 345", "1234 5678 9012 34567", "1234x5678"])
def test_not_a_receipt_is_invalid_input_and_costs_no_kdf(
    context: AppContext, counted: Counted, text: str
) -> None:
    pool = _counting(context)
    with pytest.raises(InvalidInput) as raised:
        look_up(context, receipt_text=text, source=_source())
    assert [error["type"] for error in raised.value.errors] == ["receipt_invalid"]
    assert pool.runs == 0
    assert counted(context, GLOBAL_SCOPE) == 0


def test_an_unknown_receipt_counts_one_failure_on_both_counters(
    context: AppContext, file_case: FileCase, counted: Counted
) -> None:
    _case_ref, receipt = file_case(context)
    source = _source()
    look_up(context, receipt_text=receipt, source=source)
    assert (counted(context, SOURCE_SCOPE), counted(context, GLOBAL_SCOPE)) == (0, 0)
    with pytest.raises(NotFound):
        look_up(context, receipt_text=_guess(), source=source)
    assert (counted(context, SOURCE_SCOPE), counted(context, GLOBAL_SCOPE)) == (1, 1)
    with pytest.raises(NotFound):
        look_up(context, receipt_text=_guess(), source=None)  # no address: global only
    assert (counted(context, SOURCE_SCOPE), counted(context, GLOBAL_SCOPE)) == (1, 2)


def test_a_full_look_up_lane_answers_429_at_once_and_gives_the_attempt_back(
    context: AppContext, file_case: FileCase, counted: Counted
) -> None:
    _case_ref, receipt = file_case(context)
    lane = _install_lane(context, LookupLane(1, backlog=0))
    release, inside = threading.Event(), threading.Event()

    def hold() -> None:
        inside.set()
        release.wait(30)

    holder = threading.Thread(target=lane.run, args=(hold,))
    holder.start()
    try:
        assert inside.wait(30)  # the lane's one thread is busy, nothing may wait
        with pytest.raises(TooManyRequests) as raised:
            look_up(context, receipt_text=receipt, source=_source())
        assert raised.value.retry_after_s == BUSY_RETRY_S
        assert (counted(context, SOURCE_SCOPE), counted(context, GLOBAL_SCOPE)) == (0, 0)
    finally:
        release.set()
        holder.join()
    assert look_up(context, receipt_text=receipt, source=_source()).status == "routed"


def test_a_source_over_its_limit_is_refused_before_any_kdf(
    context_for: ContextFor, file_case: FileCase
) -> None:
    context = context_for(followup_limit="3/hour")
    _case_ref, receipt = file_case(context)
    guesser, other = _source(), _source()
    for _ in range(3):
        with pytest.raises(NotFound):
            look_up(context, receipt_text=_guess(), source=guesser)
    pool = _counting(context)
    with pytest.raises(TooManyRequests) as raised:
        look_up(context, receipt_text=receipt, source=guesser)  # even the right one
    assert pool.runs == 0
    assert 1 <= raised.value.retry_after_s <= 3601
    assert raised.value.headers["Retry-After"] == str(raised.value.retry_after_s)
    assert look_up(context, receipt_text=receipt, source=other).status == "routed"


def test_the_global_cap_holds_against_guesses_spread_over_many_sources(
    context_for: ContextFor, file_case: FileCase, counted: Counted
) -> None:
    context = context_for(followup_limit="3/hour", followup_global_limit="10/hour")
    _case_ref, receipt = file_case(context)
    pool = _counting(context)
    outcomes: list[str] = []
    for _source_index in range(30):  # 30 sources x 2 guesses: each under its own limit of 3
        source = _source()
        for _ in range(2):
            try:
                look_up(context, receipt_text=_guess(), source=source)
            except (NotFound, TooManyRequests) as refusal:
                outcomes.append(type(refusal).__name__)
    assert outcomes.count("NotFound") == 10
    assert outcomes.count("TooManyRequests") == 50
    assert pool.runs == 10  # refused guesses cost no Argon2id run
    assert counted(context, GLOBAL_SCOPE) == 10
    with pytest.raises(TooManyRequests):
        look_up(context, receipt_text=receipt, source=_source())


def test_two_processes_on_one_database_share_the_limits(
    context_for: ContextFor, file_case: FileCase
) -> None:
    limits = {"followup_limit": "3/hour", "followup_global_limit": "5/hour"}
    first, second = context_for(**limits), context_for(**limits)
    _case_ref, receipt = file_case(first)
    guesser = _source()
    for context in (first, second, first):
        with pytest.raises(NotFound):
            look_up(context, receipt_text=_guess(), source=guesser)
    with pytest.raises(TooManyRequests):
        look_up(second, receipt_text=_guess(), source=guesser)
    for context in (second, first):
        with pytest.raises(NotFound):
            look_up(context, receipt_text=_guess(), source=_source())
    for context in (first, second):  # 5 failures in all: the global cap is reached for both
        with pytest.raises(TooManyRequests):
            look_up(context, receipt_text=receipt, source=_source())


def test_limits_set_to_zero_are_off(context_for: ContextFor, counted: Counted) -> None:
    context = context_for(followup_limit="0", followup_global_limit="0")
    source = _source()
    for _ in range(4):
        with pytest.raises(NotFound):
            look_up(context, receipt_text=_guess(), source=source)
    assert counted(context, GLOBAL_SCOPE) == counted(context, SOURCE_SCOPE) == 0


def test_a_message_that_does_not_open_is_left_out(
    context: AppContext, file_case: FileCase, add_message: AddMessage
) -> None:
    case_ref, receipt = file_case(context)
    add_message(context, case_ref, "We received your report.", utcnow())
    with context.sessions() as session, session.begin():
        case = case_by_ref(session, case_ref)
        stranger = generate_keypair().public_key
        session.add(
            CaseMessage(
                case_id=case.id,
                at=utcnow(),
                author="ke-unicef",
                sealed_for_reporter=seal_to_public_key("not for you", stranger),
                envelope="{}",
            )
        )
    view = look_up(context, receipt_text=receipt, source=_source())
    assert [message.text for message in view.messages] == ["We received your report."]
