"""Small-cell suppression (SPEC section 12): the one function every figure goes through.

A *group* is one or more breakdowns of the same cases (by country, by category,
...), each a mapping of cell -> count, all summing to the group's total. Every
count from 1 to N (`INTAKE_SMALL_CELL`) becomes the string "<N+1>"; zero stays
0; when any cell of the group is small the total becomes None (null, "–").

The breakdowns of a group are linked: one printed in full gives away the total
even when the total itself is hidden. So the rule protects every small cell as
if the total were known: while some small cell's value could be worked out
from the printed cells and the total's possible range, the smallest printed
count above N of its breakdown is hidden as well (None), else one of another
breakdown (which loosens the total's range). The check is exact for what a
reader learns from one answer: printed counts, small cells in 1..N, hidden
counts above N, and the totals of the breakdowns being equal.

What the rule cannot hide: SPEC keeps zeros as 0, so the number of non-zero
cells is always visible (five statuses each non-zero means at least five
cases). When every non-zero count of a group is already hidden, nothing more
can be done without hiding zeros; that is the only case where a small cell may
stay pinned (e.g. a one-country breakdown "<5" beside four non-zero statuses).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
Cell = int | str | None  # a printed count, "<N+1>", or hidden (None)

_SHOWN, _SMALL, _HIDDEN = "shown", "small", "hidden"
_UNBOUNDED = 10**18  # stands for "no upper bound" in the interval arithmetic


@dataclass(frozen=True)
class Suppressed(Generic[K]):
    """The group's breakdowns, cell by cell, and its total, as they may be printed."""

    breakdowns: dict[str, dict[K, Cell]]
    total: Cell


def small_label(small: int) -> str:
    return f"<{small + 1}"


def suppress(
    breakdowns: Mapping[str, Mapping[K, int]], *, small: int, total: int | None = None
) -> Suppressed[K]:
    """Suppress the linked `breakdowns` of one group (see the module docstring).

    `total` defaults to the sum of the first breakdown; every breakdown must add
    up to it. A single breakdown whose total is not printed (the aggregate
    export's rows) is a group of one: its small rows become "<N+1>" and nothing
    else changes, since no printed number sums them."""
    if small < 1:
        raise ValueError("small must be 1 or more")
    counts = {name: dict(cells) for name, cells in breakdowns.items()}
    group_total = _group_total(counts, total)
    states = {
        name: {key: _initial(n, small) for key, n in cells.items()}
        for name, cells in counts.items()
    }
    if not any(state == _SMALL for cells in states.values() for state in cells.values()):
        printed = {name: dict[K, Cell](cells) for name, cells in counts.items()}
        return Suppressed(breakdowns=printed, total=group_total)
    # With N = 1, "<2" is exactly 1 whatever else is hidden: nothing to gain from hiding more.
    while (
        small > 1
        and (pinned := _first_pinned(counts, states, small)) is not None
        and _hide_one(counts, states, pinned)
    ):
        pass
    label = small_label(small)
    printed = {
        name: {key: _printed(counts[name][key], state, label) for key, state in cells.items()}
        for name, cells in states.items()
    }
    return Suppressed(breakdowns=printed, total=None)


def hours_or_none(value: float | None, cases: int, *, small: int) -> float | None:
    """An hours figure over fewer than N+1 cases is not printed (SPEC section 12)."""
    return value if value is not None and cases > small else None


def _group_total(counts: Mapping[str, Mapping[K, int]], total: int | None) -> int:
    sums = {sum(cells.values()) for cells in counts.values()}
    if any(n < 0 for cells in counts.values() for n in cells.values()):
        raise ValueError("counts are never negative")
    if total is not None:
        sums.add(total)
    if len(sums) > 1:
        raise ValueError("the breakdowns of a group must add up to the same total")
    return sums.pop() if sums else 0


def _initial(count: int, small: int) -> str:
    return _SMALL if 1 <= count <= small else _SHOWN


def _printed(count: int, state: str, label: str) -> Cell:
    if state == _SMALL:
        return label
    return None if state == _HIDDEN else count


@dataclass(frozen=True)
class _Bounds:
    printed: int  # the sum of the printed counts
    low: int  # the least the unprinted cells can add up to
    high: int  # the most (_UNBOUNDED once a count above N is hidden)


def _bounds(cells: Mapping[K, int], states: Mapping[K, str], small: int) -> _Bounds:
    printed = sum(n for key, n in cells.items() if states[key] == _SHOWN)
    n_small = sum(1 for state in states.values() if state == _SMALL)
    n_hidden = sum(1 for state in states.values() if state == _HIDDEN)
    high = _UNBOUNDED if n_hidden else n_small * small
    return _Bounds(printed=printed, low=n_small + n_hidden * (small + 1), high=high)


def _first_pinned(
    counts: Mapping[str, Mapping[K, int]], states: Mapping[str, Mapping[K, str]], small: int
) -> str | None:
    """The name of a breakdown holding a small cell a reader could work out, if any."""
    bounds = {name: _bounds(counts[name], states[name], small) for name in counts}
    # The total lies in every breakdown's range of possible sums.
    total_low = max(b.printed + b.low for b in bounds.values())
    total_high = min(b.printed + b.high for b in bounds.values())
    for name, b in bounds.items():
        if not any(state == _SMALL for state in states[name].values()):
            continue
        # One small cell v: the others add up to between low-1 and high-small.
        least = max(1, total_low - b.printed - (b.high - small))
        most = min(small, total_high - b.printed - (b.low - 1))
        if least >= most:
            return name
    return None


def _hide_one(
    counts: Mapping[str, Mapping[K, int]], states: dict[str, dict[K, str]], pinned: str
) -> bool:
    """Hide the smallest printed count above N: in `pinned`'s breakdown, else in another
    (one that still has none hidden first). False when nothing is left to hide."""
    others = sorted(
        (name for name in counts if name != pinned),
        key=lambda name: _HIDDEN in states[name].values(),
    )
    for name in (pinned, *others):
        shown = [
            (n, str(key), key)
            for key, n in counts[name].items()
            if states[name][key] == _SHOWN and n > 0
        ]
        if shown:
            _n, _order, key = min(shown, key=lambda item: (item[0], item[1]))
            states[name][key] = _HIDDEN
            return True
    return False
