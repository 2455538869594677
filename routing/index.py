"""A lookup structure that finds the deciding rule without scanning the rules.

Every rule is filed under the exact tuple of its four field values (a
category list files it once per category; ``"*"`` is a value like any
other). A report can only match rules filed under one of the 16 tuples
that take, for each field, either the report's value or ``"*"``, so a
decision costs at most 16 dictionary look-ups, however large the table.
In a valid table each tuple holds at most one rule: two rules under the
same tuple would have equal weight and overlap, which is a clash.
"""

from __future__ import annotations

from collections.abc import Sequence

from routing.models import ANY, Rule

Key = tuple[str, str, str, bool | str]


class RuleIndex:
    """Built once per table (``RoutingTable.rule_index`` caches it)."""

    __slots__ = ("_by_key", "_catch_alls")

    def __init__(self, rules: Sequence[Rule]) -> None:
        # (weight, -position) orders candidates; the position only breaks
        # ties in tables that skipped validation, deterministically.
        self._by_key: dict[Key, tuple[int, int, Rule]] = {}
        self._catch_alls: dict[str, tuple[int, int, Rule]] = {}
        for position, rule in enumerate(rules):
            entry = (rule.weight, -position, rule)
            categories = (ANY,) if rule.category == ANY else rule.category
            for category in categories:
                self._by_key.setdefault(
                    (rule.country, category, rule.affiliation, rule.child), entry
                )
            if rule.matches_everything_in(rule.country):
                # The least specific rule that takes everything is the fallback.
                known = self._catch_alls.get(rule.country)
                if known is None or rule.weight < known[0]:
                    self._catch_alls[rule.country] = entry

    def deciding_rule(
        self, country: str, category: str, affiliation: str, child: bool | None
    ) -> Rule | None:
        """The most specific matching rule, or None when nothing matches."""
        best: tuple[int, int, Rule] | None = None
        children: tuple[bool | str, ...] = (ANY,) if child is None else (child, ANY)
        for key_country in (country, ANY):
            for key_category in (category, ANY):
                for key_affiliation in (affiliation, ANY):
                    for key_child in children:
                        found = self._by_key.get(
                            (key_country, key_category, key_affiliation, key_child)
                        )
                        if found is not None and (best is None or found[:2] > best[:2]):
                            best = found
        return None if best is None else best[2]

    def catch_all(self, country: str) -> Rule | None:
        """The rule taking every report from ``country`` (``"*"``: from anywhere)."""
        found = self._catch_alls.get(country)
        return None if found is None else found[2]
