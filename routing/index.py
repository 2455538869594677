"""A lookup structure that finds the deciding rule without scanning the rules.

Every rule is filed under the exact tuple of its four field values (a
category list files it once per category; ``"*"`` is a value like any
other). A report can only match rules filed under one of the 16 tuples
that take, for each field, either the report's value or ``"*"``; and the
rule under a tuple has as many fields that are not ``"*"`` as the tuple
itself. So trying the 16 tuples from the most specific down, the first rule
found decides: at most 16 dictionary look-ups, however large the table. In
a valid table each tuple holds at most one rule (two would have equal
weight and overlap: a clash) and no two tuples of equal weight both hold a
match, so the order among equally specific tuples does not matter; for a
table that skipped validation it is still fixed, so decisions stay
deterministic.
"""

from __future__ import annotations

from collections.abc import Sequence

from routing.entries import ANY, Rule

Key = tuple[str, str, str, bool | str | None]


def _candidate_keys(
    country: str, category: str, affiliation: str, child: bool | None
) -> tuple[Key, ...]:
    """Every key a matching rule can be filed under, the most specific first.

    A report whose child flag is None gives keys with child None, which no
    rule is filed under: it matches only rules with ``child = "*"``.
    """
    c, k, a, h, x = country, category, affiliation, child, ANY
    return (
        (c, k, a, h),
        (x, k, a, h), (c, x, a, h), (c, k, x, h), (c, k, a, x),
        (x, x, a, h), (x, k, x, h), (x, k, a, x), (c, x, x, h), (c, x, a, x), (c, k, x, x),
        (c, x, x, x), (x, k, x, x), (x, x, a, x), (x, x, x, h),
        (x, x, x, x),
    )  # fmt: skip


class RuleIndex:
    """Built once per table (``RoutingTable.rule_index`` caches it)."""

    __slots__ = ("_by_key", "_catch_alls")

    def __init__(self, rules: Sequence[Rule]) -> None:
        self._by_key: dict[Key, Rule] = {}
        self._catch_alls: dict[str, Rule] = {}
        for rule in rules:
            categories = (ANY,) if rule.category == ANY else rule.category
            for category in categories:
                self._by_key.setdefault(
                    (rule.country, category, rule.affiliation, rule.child), rule
                )
            known = self._catch_alls.get(rule.country)
            # The least specific rule that takes everything is the fallback.
            if rule.matches_everything_in(rule.country) and (
                known is None or rule.weight < known.weight
            ):
                self._catch_alls[rule.country] = rule

    def deciding_rule(
        self, country: str, category: str, affiliation: str, child: bool | None
    ) -> Rule | None:
        """The most specific matching rule, or None when nothing matches."""
        get = self._by_key.get
        for key in _candidate_keys(country, category, affiliation, child):
            rule = get(key)
            if rule is not None:
                return rule
        return None

    def catch_all(self, country: str) -> Rule | None:
        """The rule taking every report from ``country`` (``"*"``: from anywhere)."""
        return self._catch_alls.get(country)
