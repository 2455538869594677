"""Small-cell suppression: examples, and properties checked by an independent brute force.

The brute force knows only what a reader of one answer knows (the printed
counts, "<N+1>" = 1..N, null = more than N, every breakdown of a group adding
up to the same total) and tries every total and every value: a small cell is
*derivable* when only one value fits.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from intake.coordination.suppression import Cell, hours_or_none, suppress


def test_small_cells_become_the_label_zero_stays_and_the_total_goes() -> None:
    result = suppress({"by_status": {"routed": 3, "closed": 10, "referred": 0}}, small=4)
    assert result.breakdowns == {"by_status": {"routed": "<5", "closed": 10, "referred": 0}}
    assert result.total is None


def test_nothing_small_prints_everything_and_the_total() -> None:
    result = suppress({"a": {"x": 5, "y": 0}, "b": {"p": 2 + 3, "q": 0}}, small=4)
    assert result.breakdowns == {"a": {"x": 5, "y": 0}, "b": {"p": 5, "q": 0}}
    assert result.total == 5


def test_the_threshold_is_the_setting() -> None:
    result = suppress({"a": {"x": 9, "y": 10}}, small=9)
    assert result.breakdowns["a"] == {"x": "<10", "y": 10}


def test_a_breakdown_that_gives_the_total_away_makes_another_count_hidden() -> None:
    # by_country prints 11 (the total); routed = 11 - closed unless closed is hidden too.
    result = suppress({"by_country": {"KE": 11}, "by_status": {"routed": 1, "closed": 10}}, small=4)
    assert result.breakdowns["by_country"] == {"KE": 11}
    assert result.breakdowns["by_status"] == {"routed": "<5", "closed": None}
    assert result.total is None


def test_one_hidden_count_is_not_enough_when_it_pins_the_small_one() -> None:
    # a + b = 11 - 6 = 5 with a in 1..4 and b >= 5 means a = 1: hide c as well.
    result = suppress({"all": {"x": 11}, "split": {"a": 1, "b": 5, "c": 5}}, small=4)
    assert result.breakdowns["split"] == {"a": "<5", "b": None, "c": None}


def test_breakdowns_of_a_group_must_add_up_to_the_same_total() -> None:
    with pytest.raises(ValueError, match="same total"):
        suppress({"a": {"x": 3}, "b": {"y": 4}}, small=4)
    with pytest.raises(ValueError, match="same total"):
        suppress({"a": {"x": 3}}, small=4, total=5)


def test_hours_over_too_few_cases_are_not_printed() -> None:
    assert hours_or_none(12.5, 4, small=4) is None
    assert hours_or_none(12.5, 5, small=4) == 12.5
    assert hours_or_none(None, 50, small=4) is None


# --- the brute force ------------------------------------------------------------------------


def _values(cell: Cell, small: int, cap: int) -> range:
    if cell is None:
        return range(small + 1, cap + 1)
    if isinstance(cell, str):
        assert cell == f"<{small + 1}"
        return range(1, small + 1)
    return range(cell, cell + 1)


def _sums(ranges: list[range], cap: int) -> set[int]:
    sums = {0}
    for values in ranges:
        sums = {s + v for s in sums for v in values if s + v <= cap}
    return sums


def _possible_values(
    printed: Mapping[str, Mapping[str, Cell]], total: Cell, small: int, cap: int
) -> dict[tuple[str, str], set[int]]:
    """For every small cell, every value some dataset consistent with the answer gives it."""
    ranges = {
        name: {key: _values(cell, small, cap) for key, cell in cells.items()}
        for name, cells in printed.items()
    }
    whole = {name: _sums(list(cells.values()), cap) for name, cells in ranges.items()}
    totals = [total] if isinstance(total, int) else range(cap + 1)
    found: dict[tuple[str, str], set[int]] = {}
    for name, cells in printed.items():
        others_fit = [t for t in totals if all(t in whole[o] for o in printed if o != name)]
        for key, cell in cells.items():
            if not isinstance(cell, str):
                continue
            rest = _sums([r for k, r in ranges[name].items() if k != key], cap)
            found[name, key] = {v for v in ranges[name][key] for t in others_fit if t - v in rest}
    return found


def _group(cases: list[tuple[int, int, int]], dimensions: int) -> dict[str, dict[str, int]]:
    sizes = (3, 4, 2)[:dimensions]
    group = {}
    for axis, size in enumerate(sizes):
        counted = Counter(case[axis] for case in cases)
        group[f"d{axis}"] = {f"v{value}": counted[value] for value in range(size)}
    return group


cases_strategy = st.lists(
    st.tuples(st.integers(0, 2), st.integers(0, 3), st.integers(0, 1)), max_size=28
)


@settings(max_examples=250, deadline=None)
@given(cases=cases_strategy, dimensions=st.integers(1, 3), small=st.integers(2, 5))
def test_no_small_cell_can_be_worked_out_from_what_is_printed(
    cases: list[tuple[int, int, int]], dimensions: int, small: int
) -> None:
    group = _group(cases, dimensions)
    result = suppress(group, small=small, total=len(cases))
    cap = len(cases) + 2 * (small + 1)
    possible = _possible_values(result.breakdowns, result.total, small, cap)
    for (name, key), values in possible.items():
        assert group[name][key] in values  # the truth is always possible
        if len(values) == 1:
            # Only when every non-zero count is already hidden: what is left in view is the
            # pattern of zeros, which SPEC 12 keeps ("zero stays 0").
            shown = [c for cells in result.breakdowns.values() for c in cells.values()]
            assert all(not isinstance(c, int) or c == 0 for c in shown), (name, key, result)


@settings(max_examples=250, deadline=None)
@given(cases=cases_strategy, dimensions=st.integers(1, 3), small=st.integers(1, 6))
def test_printed_cells_are_true_small_ones_labelled_and_hidden_ones_large(
    cases: list[tuple[int, int, int]], dimensions: int, small: int
) -> None:
    group = _group(cases, dimensions)
    result = suppress(group, small=small)
    any_small = any(1 <= n <= small for cells in group.values() for n in cells.values())
    assert result.total == (None if any_small else len(cases))
    for name, cells in group.items():
        for key, count in cells.items():
            printed = result.breakdowns[name][key]
            if 1 <= count <= small:
                assert printed == f"<{small + 1}"
            elif printed is not None:
                assert printed == count
            else:
                assert count > small


@settings(max_examples=200, deadline=None)
@given(
    counts=st.lists(st.integers(0, 12), min_size=1, max_size=6),
    small=st.integers(2, 5),
)
def test_one_breakdown_is_safe_even_if_its_total_were_known(counts: list[int], small: int) -> None:
    """A single breakdown hides its total; and were the total known from elsewhere, the rule
    as applied to a linked group still leaves every small cell more than one value."""
    cells = {f"c{i}": n for i, n in enumerate(counts)}
    total = sum(counts)
    alone = suppress({"one": cells}, small=small)
    cap = total + 2 * (small + 1)
    assert all(len(v) > 1 for v in _possible_values(alone.breakdowns, None, small, cap).values())
    linked = suppress({"one": cells, "total": {"all": total}}, small=small)
    possible = _possible_values(linked.breakdowns, linked.total, small, cap)
    shown = [c for part in linked.breakdowns.values() for c in part.values()]
    for values in possible.values():
        assert len(values) > 1 or all(not isinstance(c, int) or c == 0 for c in shown)
