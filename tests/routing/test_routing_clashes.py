"""Rules of equal weight that can both match one report make a table invalid."""

from __future__ import annotations

from collections.abc import Callable
from itertools import combinations
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from routing.checks import MAX_CLASHES_LISTED, clashing_pairs
from routing.constants import CATEGORIES
from routing.table import Rule, check_table_text

Doc = dict[str, Any]
Fields = tuple[str, Any, str, Any]  # country, category, affiliation, child

SA, SE, SH = "sexual_abuse", "sexual_exploitation", "sexual_harassment"

CASES: list[tuple[str, Fields, Fields, bool]] = [
    ("identical", ("KE", "*", "*", "*"), ("KE", "*", "*", "*"), True),
    ("other country", ("KE", "*", "*", "*"), ("SO", "*", "*", "*"), False),
    ("country vs category", ("KE", "*", "*", "*"), ("*", [SA], "*", "*"), True),
    ("country vs affiliation", ("KE", "*", "*", "*"), ("*", "*", "UNICEF", "*"), True),
    ("country vs child", ("KE", "*", "*", "*"), ("*", "*", "*", True), True),
    ("two fields crossed", ("KE", [SA], "*", "*"), ("KE", "*", "UNICEF", "*"), True),
    ("disjoint categories", ("KE", [SA], "*", "*"), ("KE", [SH], "*", "*"), False),
    ("shared category", ("KE", [SA, SE], "*", "*"), ("KE", [SE, SH], "*", "*"), True),
    ("country differs", ("KE", [SA], "*", "*"), ("SO", "*", "UNICEF", "*"), False),
    ("child true vs false", ("KE", "*", "*", True), ("KE", "*", "*", False), False),
    ("child vs affiliation", ("KE", "*", "*", True), ("KE", "*", "UNICEF", "*"), True),
    ("different weights", ("KE", [SA], "UNICEF", "*"), ("KE", [SA], "*", "*"), False),
    ("two catch-alls", ("*", "*", "*", "*"), ("*", "*", "*", "*"), True),
    ("all stars but two", ("*", [SA], "UNICEF", "*"), ("KE", "*", "*", True), True),
    ("category keeps apart", ("*", [SA], "UNICEF", "*"), ("KE", [SH], "*", "*"), False),
    ("unknown vs agency", ("KE", "*", "unknown", "*"), ("KE", "*", "UNICEF", "*"), False),
    ("every category listed", ("KE", list(CATEGORIES), "*", "*"), ("KE", "*", "UNICEF", "*"), True),
]


def _doc(make_rule: Callable[..., Doc], make_focal_point: Callable[..., Doc], *rules: Doc) -> Doc:
    return {
        "version": "v",
        "focal_points": [make_focal_point("global", "CH", 1)],
        "rules": [*rules, make_rule("catch-all")],
    }


@pytest.mark.parametrize(
    ("a", "b", "clash"), [case[1:] for case in CASES], ids=[case[0] for case in CASES]
)
def test_clashes(
    toml: Callable[[Doc], str],
    make_rule: Callable[..., Doc],
    make_focal_point: Callable[..., Doc],
    a: Fields,
    b: Fields,
    clash: bool,
) -> None:
    doc = _doc(make_rule, make_focal_point, make_rule("a", *a), make_rule("b", *b))
    problems = check_table_text(toml(doc)).problems
    named = [p for p in problems if p.startswith('rules[0] (id "a") and rules[1] (id "b") clash')]
    assert len(named) == int(clash)
    if not clash:
        assert problems == []


def test_a_more_specific_rule_does_not_settle_a_clash(
    toml: Callable[[Doc], str], make_rule: Callable[..., Doc], make_focal_point: Callable[..., Doc]
) -> None:
    # SPEC 6: two equal-weight rules that can both match one report are a
    # problem, even when a heavier rule would decide every such report.
    doc = _doc(
        make_rule,
        make_focal_point,
        make_rule("ke-sea", "KE", [SA], "*", "*"),
        make_rule("ke-unicef", "KE", "*", "UNICEF", "*"),
        make_rule("ke-sea-unicef", "KE", [SA], "UNICEF", "*"),
    )
    assert check_table_text(toml(doc)).problems == [
        'rules[0] (id "ke-sea") and rules[1] (id "ke-unicef") clash: both have 2 fields that are '
        'not "*" and both match a report such as KE, sexual_abuse, UNICEF, child or not; make one '
        "more specific or narrow one of them"
    ]


def test_many_clashes_are_summed_up(
    toml: Callable[[Doc], str], make_rule: Callable[..., Doc], make_focal_point: Callable[..., Doc]
) -> None:
    rules = [make_rule(f"ke-{n}", "KE") for n in range(20)]  # 190 clashing pairs
    problems = check_table_text(toml(_doc(make_rule, make_focal_point, *rules))).problems
    assert len(problems) == MAX_CLASHES_LISTED + 1
    assert problems[0].startswith('rules[0] (id "ke-0") and rules[1] (id "ke-1") clash')
    assert problems[-1] == "more clashing rules: only the first 100 pairs are listed"


# Against a plain pairwise reference ---------------------------------------------------------


def _overlap(a: Rule, b: Rule) -> bool:
    same_category = a.category == "*" or b.category == "*" or set(a.category) & set(b.category)
    return bool(same_category) and all(
        x == "*" or y == "*" or x == y
        for x, y in ((a.country, b.country), (a.affiliation, b.affiliation), (a.child, b.child))
    )


rules_strategy = st.lists(
    st.builds(
        lambda country, category, affiliation, child: Rule(
            id="r",
            country=country,
            category=category,
            affiliation=affiliation,
            child=child,
            to=("x",),
            deadline_hours=1,
        ),  # fmt: skip
        st.sampled_from(["KE", "SO", "*"]),
        st.one_of(
            st.just("*"),
            st.lists(st.sampled_from([SA, SE, SH]), min_size=1, max_size=2, unique=True),
        ),
        st.sampled_from(["UNICEF", "WFP", "*"]),
        st.sampled_from([True, False, "*"]),
    ),
    max_size=25,
)


@given(rules_strategy)
def test_clashing_pairs_agree_with_the_pairwise_definition(rules: list[Rule]) -> None:
    expected = {
        (i, j)
        for (i, a), (j, b) in combinations(enumerate(rules), 2)
        if a.weight == b.weight and _overlap(a, b)
    }
    assert set(clashing_pairs(rules)) == expected
