"""The routing table's `[retention]` section (SPEC 12): parsed, checked, looked up."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from routing.constants import CATEGORIES
from routing.table import check_table_text, load_table_text
from tests.routing.conftest import Doc

Toml = Callable[[Doc], str]


def _with(toml: Toml, doc: Doc, section: str) -> str:
    return toml(doc) + "\n[retention]\n" + section + "\n"


def test_no_section_keeps_everything_forever(doc: Doc, toml: Toml) -> None:
    assert load_table_text(toml(doc)).retention is None


def test_the_default_and_per_category_days(doc: Doc, toml: Toml) -> None:
    text = _with(toml, doc, 'closed_days = {"*" = 1825, "programme_feedback" = 365}')
    retention = load_table_text(text).retention
    assert retention is not None
    assert retention.days_for("programme_feedback") == 365
    for category in CATEGORIES:
        if category != "programme_feedback":
            assert retention.days_for(category) == 1825


def test_without_a_star_only_the_named_categories_go(doc: Doc, toml: Toml) -> None:
    retention = load_table_text(_with(toml, doc, "closed_days = {other = 0}")).retention
    assert retention is not None
    assert retention.days_for("other") == 0
    assert retention.days_for("sexual_abuse") is None


def test_an_empty_table_keeps_everything(doc: Doc, toml: Toml) -> None:
    retention = load_table_text(_with(toml, doc, "closed_days = {}")).retention
    assert retention is not None
    assert all(retention.days_for(category) is None for category in CATEGORIES)


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        ('closed_days = {"*" = -1}', 'retention: closed_days: "*" must be a whole number of days'),
        ('closed_days = {"*" = 1.5}', 'retention: closed_days: "*" must be a whole number of days'),
        ('closed_days = {"*" = true}', 'retention: closed_days: "*" must be a whole number'),
        ('closed_days = {"*" = "365"}', 'retention: closed_days: "*" must be a whole number'),
        ('closed_days = {"*" = 99999999}', 'retention: closed_days: "*" must be a whole number'),
        (
            "closed_days = {sexual_abus = 30}",
            'retention: closed_days: "sexual_abus" is not a category',
        ),
        ("closed_days = 30", "retention: closed_days: must be a table such as"),
        ("keep_days = 30", 'retention: missing required field "closed_days"'),
        ('closed_days = {"*" = 1}\nextra = 1', 'retention: unknown field "extra"'),
    ],
)
def test_bad_values_are_clear_problems(doc: Doc, toml: Toml, section: str, expected: str) -> None:
    result = check_table_text(_with(toml, doc, section))
    assert result.table is None
    assert any(problem.startswith(expected) for problem in result.problems), result.problems


def test_a_retention_that_is_not_a_table_is_a_problem(doc: Doc, toml: Toml) -> None:
    result = check_table_text("retention = 5\n" + toml(doc))
    assert result.table is None
    assert any(problem.startswith("retention: ") for problem in result.problems), result.problems
