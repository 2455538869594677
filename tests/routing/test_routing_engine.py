"""Routing decisions: the most specific matching rule decides, exactly one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from itertools import product
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crypto.keys import keypair_from_seed
from routing.constants import CATEGORIES
from routing.engine import Decision, Facts, coordinator_for, decide
from routing.table import FocalPoint, RoutingTable, Rule, load_table_text

Doc = dict[str, Any]
SEA = ["sexual_exploitation", "sexual_abuse"]
SA, SE, SH = "sexual_abuse", "sexual_exploitation", "sexual_harassment"


@pytest.fixture(scope="module")
def table(
    toml: Callable[[Doc], str],
    make_rule: Callable[..., Doc],
    make_focal_point: Callable[..., Doc],
) -> RoutingTable:
    fps = [("ke-unicef", "KE"), ("ke-child", "KE"), ("ke-coord", "KE"), ("so-coord", "SO"),
           ("unicef-ethics", "US"), ("global", "CH")]  # fmt: skip
    r = make_rule
    rules = [
        r("ke-all", "KE", to=["ke-coord"], deadline_hours=48),
        r("ke-sea", "KE", SEA, to=["ke-coord"]),
        r("ke-sea-unicef", "KE", SEA, "UNICEF", to=["ke-unicef"], cc=["ke-coord"]),
        r("ke-sea-unicef-child", "KE", SEA, "UNICEF", True, to=["ke-unicef"],
          cc=["ke-child", "ke-coord", "ke-unicef"], deadline_hours=12),
        r("ke-sea-unknown", "KE", SEA, "unknown", to=["ke-coord"]),
        r("ke-sea-unknown-adult", "KE", SEA, "unknown", False, to=["ke-coord"], cc=["global"]),
        r("fraud-unicef", "*", ["fraud_corruption"], "UNICEF", to=["unicef-ethics"]),
        r("so-all", "SO", to=["so-coord"], deadline_hours=48),
        r("catch-all", to=["global"], deadline_hours=72),
    ]  # fmt: skip
    doc = {
        "version": "2026-11-01",
        "focal_points": [make_focal_point(i, c, n) for n, (i, c) in enumerate(fps)],
        "rules": rules,
    }
    return load_table_text(toml(doc))


DECISIONS: list[tuple[Facts, str, tuple[str, ...]]] = [
    # Specificity: 4 fields beat 3, 3 beat 2, ...
    (Facts("KE", SA, "UNICEF", True), "ke-sea-unicef-child", ("ke-unicef", "ke-child", "ke-coord")),
    (Facts("KE", SE, "UNICEF", True), "ke-sea-unicef-child", ("ke-unicef", "ke-child", "ke-coord")),
    (Facts("KE", SA, "UNICEF", False), "ke-sea-unicef", ("ke-unicef", "ke-coord")),
    # A report whose child flag is unknown matches only child = "*".
    (Facts("KE", SA, "UNICEF", None), "ke-sea-unicef", ("ke-unicef", "ke-coord")),
    # Affiliation "unknown" is a value like an agency code.
    (Facts("KE", SA, "unknown", False), "ke-sea-unknown-adult", ("ke-coord", "global")),
    (Facts("KE", SA, "unknown", True), "ke-sea-unknown", ("ke-coord",)),
    (Facts("KE", SA, "unknown", None), "ke-sea-unknown", ("ke-coord",)),
    (Facts("KE", SA, "WFP", True), "ke-sea", ("ke-coord",)),
    (Facts("KE", SH, "UNICEF", True), "ke-all", ("ke-coord",)),
    # A rule for every country with two fields beats a country rule with one.
    (Facts("KE", "fraud_corruption", "UNICEF", None), "fraud-unicef", ("unicef-ethics",)),
    (Facts("SO", "fraud_corruption", "UNICEF", None), "fraud-unicef", ("unicef-ethics",)),
    (Facts("SO", SA, "UNICEF", True), "so-all", ("so-coord",)),
    # The catch-all takes what nothing else does.
    (Facts("HT", SA, "UNICEF", True), "catch-all", ("global",)),
    (Facts("HT", "other", "unknown", None), "catch-all", ("global",)),
    (Facts("SO", "fraud_corruption", "unknown", None), "so-all", ("so-coord",)),
]


@pytest.mark.parametrize(("facts", "rule_id", "recipients"), DECISIONS)
def test_decide(
    table: RoutingTable, facts: Facts, rule_id: str, recipients: tuple[str, ...]
) -> None:
    decision = decide(table, facts)
    assert (decision.rule_id, decision.recipients) == (rule_id, recipients)
    rule = table.rule(rule_id)
    assert rule is not None
    assert decision.deadline_hours == rule.deadline_hours
    assert decision.table_version == "2026-11-01"


@pytest.mark.parametrize(
    ("facts", "explanation"),
    [
        (Facts("KE", SA, "UNICEF", True), "KE, sexual_abuse, UNICEF, child → rule "
         "ke-sea-unicef-child (4 fields)"),
        (Facts("KE", SA, "unknown", False), "KE, sexual_abuse, unknown, not a child → rule "
         "ke-sea-unknown-adult (4 fields)"),
        (Facts("SO", "other", "WFP", None), "SO, other, WFP, child unknown → rule so-all "
         "(1 field)"),
        (Facts("HT", "other", "WFP", None), "HT, other, WFP, child unknown → rule catch-all "
         "(0 fields)"),
    ],
)  # fmt: skip
def test_the_explanation_reads_as_a_sentence(
    table: RoutingTable, facts: Facts, explanation: str
) -> None:
    assert decide(table, facts).explanation == explanation


def test_due_at_adds_the_deadline() -> None:
    decision = decide_one(deadline_hours=12)
    received = datetime(2026, 11, 1, 18, 30, tzinfo=UTC)
    assert decision.due_at(received) == datetime(2026, 11, 2, 6, 30, tzinfo=UTC)
    nairobi = timezone(timedelta(hours=3))
    assert decision.due_at(received.astimezone(nairobi)).tzinfo == nairobi


def decide_one(deadline_hours: int) -> Decision:
    fp = FocalPoint(id="g", name="G", agency="A", country="CH", public_keys=(b"k" * 32,))
    rule = Rule(id="all", country="*", category="*", affiliation="*", child="*", to=("g",),
                deadline_hours=deadline_hours)  # fmt: skip
    table = RoutingTable(version="v", focal_points=(fp,), rules=(rule,))
    return decide(table, Facts("KE", SA, "unknown", None))


def test_decisions_are_deterministic(table: RoutingTable) -> None:
    facts = Facts("KE", SA, "UNICEF", True)
    first = decide(table, facts)
    assert decide(table, facts) == first
    # The same table loaded again (a fresh index) decides the same way.
    again = RoutingTable.model_validate(table.model_dump())
    assert again.rule_index is not table.rule_index
    assert decide(again, facts) == first


def test_the_index_is_built_once_per_table(table: RoutingTable) -> None:
    decide(table, Facts("KE", SA, "UNICEF", True))
    index = table.rule_index
    decide(table, Facts("SO", SA, "UNICEF", True))
    assert table.rule_index is index


@pytest.mark.parametrize(
    ("country", "recipients"), [("KE", ("ke-coord",)), ("SO", ("so-coord",)), ("HT", ("global",))]
)
def test_coordinator_for(table: RoutingTable, country: str, recipients: tuple[str, ...]) -> None:
    assert coordinator_for(table, country) == recipients


def test_a_country_rule_listing_every_category_names_its_coordinator() -> None:
    fps = tuple(
        FocalPoint(
            id=i,
            name=i,
            agency="A",
            country="KE",
            public_keys=(keypair_from_seed(bytes([n]) * 32).public_key,),
        )
        for n, i in enumerate(("coord", "global"))
    )
    every = Rule(id="ke", country="KE", category=CATEGORIES, affiliation="*", child="*",
                 to=("coord",), cc=("global",), deadline_hours=1)  # fmt: skip
    catch_all = Rule(id="all", country="*", category="*", affiliation="*", child="*",
                     to=("global",), deadline_hours=1)  # fmt: skip
    table = RoutingTable(version="v", focal_points=fps, rules=(catch_all, every))
    assert coordinator_for(table, "KE") == ("coord", "global")
    assert coordinator_for(table, "SO") == ("global",)


# Every report of every valid table: exactly one rule decides, the most specific one --------

COUNTRIES = ["KE", "SO", "HT"]
CATEGORY_VALUES = [SA, SE, SH, "other"]
AFFILIATIONS = ["UNICEF", "WFP", "unknown", "IOM"]


def _matches(rule: Rule, facts: Facts) -> bool:
    return (
        rule.country in ("*", facts.country)
        and (rule.category == "*" or facts.category in rule.category)
        and rule.affiliation in ("*", facts.affiliation)
        and (rule.child == "*" or (facts.child is not None and rule.child == facts.child))
    )


def _overlap(a: Rule, b: Rule) -> bool:
    same_category = a.category == "*" or b.category == "*" or set(a.category) & set(b.category)
    return bool(same_category) and all(
        x == "*" or y == "*" or x == y
        for x, y in ((a.country, b.country), (a.affiliation, b.affiliation), (a.child, b.child))
    )


@st.composite
def valid_tables(draw: st.DrawFn) -> RoutingTable:
    """Random rules, less each one that clashes with a rule kept before it, plus a catch-all."""
    fp = FocalPoint(id="fp", name="FP", agency="A", country="KE", public_keys=(b"k" * 32,))
    kept: list[Rule] = []
    specs = draw(st.lists(st.tuples(
        st.sampled_from([*COUNTRIES[:2], "*"]),
        st.one_of(st.just("*"), st.lists(st.sampled_from(CATEGORY_VALUES[:3]), min_size=1,
                                         max_size=2, unique=True)),
        st.sampled_from([*AFFILIATIONS[:3], "*"]),
        st.sampled_from([True, False, "*"]),
    ), max_size=40))  # fmt: skip
    for n, (country, category, affiliation, child) in enumerate(specs):
        rule = Rule(id=f"r{n}", country=country, category=category, affiliation=affiliation,
                    child=child, to=("fp",), deadline_hours=n + 1)  # fmt: skip
        if not any(k.weight == rule.weight and _overlap(k, rule) for k in kept):
            kept.append(rule)
    if not any(rule.weight == 0 for rule in kept):
        position = draw(st.integers(0, len(kept)))
        catch_all = Rule(id="catch-all", country="*", category="*", affiliation="*", child="*",
                         to=("fp",), deadline_hours=99)  # fmt: skip
        kept.insert(position, catch_all)
    return RoutingTable(version="gen", focal_points=(fp,), rules=tuple(kept))


@given(valid_tables())
def test_every_report_gets_the_unique_most_specific_rule(table: RoutingTable) -> None:
    for country, category, affiliation, child in product(
        COUNTRIES, CATEGORY_VALUES, AFFILIATIONS, (True, False, None)
    ):
        facts = Facts(country, category, affiliation, child)
        matching = [rule for rule in table.rules if _matches(rule, facts)]
        heaviest = max(rule.weight for rule in matching)
        best = [rule for rule in matching if rule.weight == heaviest]
        assert len(best) == 1
        decision = decide(table, facts)
        assert decision.rule_id == best[0].id
        assert decision.deadline_hours == best[0].deadline_hours
