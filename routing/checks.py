"""Checks that need the whole routing table: ids, references, the catch-all, clashes.

Entries arrive as ``(position, model)`` pairs so that a problem names the
entry where the administrator wrote it, even when other entries of the same
section failed their own validation and were left out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Sequence
from itertools import combinations_with_replacement, product

from routing.constants import SEA_CATEGORIES
from routing.entries import ANY, FocalPoint, Rule, shown

FIELDS = ("country", "category", "affiliation", "child")
# More clashing pairs than this are summed up in one line: a table that
# repeats one rule 1,000 times needs a fix, not 500,000 lines.
MAX_CLASHES_LISTED = 100

Mask = tuple[bool, bool, bool, bool]


def where(section: str, position: int, ident: object = None) -> str:
    """The location of an entry, e.g. ``rules[3] (id "ke-sea")``."""
    if isinstance(ident, str):
        return f"{section}[{position}] (id {shown(ident)})"
    return f"{section}[{position}]"


def duplicates(section: str, keys: Iterable[tuple[int, str]], *, what: str = "id") -> list[str]:
    """One problem for each entry whose key an earlier entry already used."""
    first: dict[str, int] = {}
    problems = []
    for position, key in keys:
        if key not in first:
            first[key] = position
            continue
        if what == "id":
            problems.append(
                f"{where(section, position, key)}: id already used by {section}[{first[key]}]"
            )
        else:  # the key itself is not repeated (phone numbers stay out of output)
            problems.append(f"{where(section, position)}: same {what} as {section}[{first[key]}]")
    return problems


Reference = tuple[str, str, object]  # (where, "to" or "cc", the focal point id given)


def unknown_recipients(references: Iterable[Reference], known: Collection[str]) -> list[str]:
    return [
        f"{location}: unknown focal point {shown(ident)} in {field}"
        for location, field, ident in references
        if isinstance(ident, str) and ident not in known
    ]


def rule_references(rules: Iterable[tuple[int, Rule]]) -> Iterator[Reference]:
    for position, rule in rules:
        location = where("rules", position, rule.id)
        yield from ((location, "to", ident) for ident in rule.to)
        yield from ((location, "cc", ident) for ident in rule.cc)


def has_catch_all(rules: Iterable[Rule]) -> bool:
    return any(rule.matches_everything_in(ANY) for rule in rules)


NO_CATCH_ALL = (
    'no catch-all rule: add a rule with country, category, affiliation and child all "*", '
    "so that every report reaches someone"
)


def _mask(rule: Rule) -> Mask:
    return (rule.country != ANY, rule.category != ANY, rule.affiliation != ANY, rule.child != ANY)


def _keys(rule: Rule, fields: Sequence[int]) -> Iterator[tuple[object, ...]]:
    """The rule's values on ``fields``; a category list gives one key per category."""
    values: list[Sequence[object]] = []
    for index in fields:
        value = getattr(rule, FIELDS[index])
        values.append(value if FIELDS[index] == "category" else (value,))
    return product(*values)


def clashing_pairs(rules: Sequence[Rule]) -> Iterator[tuple[int, int]]:
    """Pairs (i, j) of rules of equal weight that some report matches both of.

    Two rules overlap when, on every field, their values are equal (category
    lists: share a category) or either is ``"*"``. Only the fields that both
    rules specify can keep them apart, so rules are grouped by which fields
    they specify (their mask), and for each pair of masks of equal weight the
    rules are hashed on the fields common to both masks: every hash bucket
    shared by the two groups is a set of clashes. This is linear in the
    number of rules (times at most 36 mask pairs), not quadratic.
    """
    by_mask: dict[Mask, list[int]] = defaultdict(list)
    for i, rule in enumerate(rules):
        by_mask[_mask(rule)].append(i)
    for mask_a, mask_b in combinations_with_replacement(sorted(by_mask), 2):
        if sum(mask_a) != sum(mask_b):
            continue
        common = [f for f in range(len(FIELDS)) if mask_a[f] and mask_b[f]]
        buckets: dict[tuple[object, ...], list[int]] = defaultdict(list)
        for i in by_mask[mask_a]:
            for key in _keys(rules[i], common):
                buckets[key].append(i)
        if mask_a == mask_b:
            for members in buckets.values():
                yield from ((i, j) for n, i in enumerate(members) for j in members[n + 1 :])
            continue
        for j in by_mask[mask_b]:
            for key in _keys(rules[j], common):
                yield from ((min(i, j), max(i, j)) for i in buckets.get(key, ()))


def _example(a: Rule, b: Rule) -> str:
    """A report that both rules match, for the problem line."""
    country = a.country if a.country != ANY else b.country
    affiliation = a.affiliation if a.affiliation != ANY else b.affiliation
    child = a.child if a.child != ANY else b.child
    if a.category == ANY:
        category = "any category" if b.category == ANY else b.category[0]
    else:
        category = next(c for c in a.category if b.category == ANY or c in b.category)
    return ", ".join(
        (
            "any country" if country == ANY else country,
            category,
            "any affiliation" if affiliation == ANY else affiliation,
            {True: "child", False: "not a child", ANY: "child or not"}[child],
        )
    )


def clashes(rules: Sequence[tuple[int, Rule]]) -> list[str]:
    """One problem per pair of equal-weight rules that can both match one report."""
    models = [rule for _, rule in rules]
    pairs: set[tuple[int, int]] = set()
    for pair in clashing_pairs(models):
        pairs.add(pair)
        if len(pairs) > MAX_CLASHES_LISTED:
            break
    problems = []
    for i, j in sorted(pairs)[:MAX_CLASHES_LISTED]:
        (pos_a, a), (pos_b, b) = rules[i], rules[j]
        problems.append(
            f"{where('rules', pos_a, a.id)} and {where('rules', pos_b, b.id)} clash: both have "
            f'{a.weight} fields that are not "*" and both match a report such as '
            f"{_example(a, b)}; make one more specific or narrow one of them"
        )
    if len(pairs) > MAX_CLASHES_LISTED:
        problems.append(
            f"more clashing rules: only the first {MAX_CLASHES_LISTED} pairs are listed"
        )
    return problems


def table_problems(
    focal_points: Sequence[FocalPoint], rules: Sequence[Rule], numbers: Sequence[str]
) -> list[str]:
    """Every whole-table problem of entries that are valid one by one."""
    located = list(enumerate(rules))
    problems = duplicates("focal_points", ((i, fp.id) for i, fp in enumerate(focal_points)))
    problems += duplicates("numbers", enumerate(numbers), what="number")
    problems += duplicates("rules", ((i, rule.id) for i, rule in located))
    problems += unknown_recipients(rule_references(located), {fp.id for fp in focal_points})
    if not has_catch_all(rules):
        problems.append(NO_CATCH_ALL)
    return problems + clashes(located)


def table_warnings(
    focal_points: Sequence[tuple[int, FocalPoint]], rules: Sequence[Rule]
) -> list[str]:
    """Gaps a coordinator should see; the table still works.

    - A country whose focal points no country-specific rule routes SEA to:
      such reports from there fall to rules for every country. Focal points
      that a rule for every country (``country = "*"``) sends to serve the
      whole world, so their own country is not counted.
    - A focal point that no rule sends to (in ``to`` or ``cc``).
    """
    global_ids = {i for rule in rules if rule.country == ANY for i in rule.recipients}
    by_country: dict[str, list[str]] = defaultdict(list)
    for _, fp in focal_points:
        if fp.id not in global_ids:
            by_country[fp.country].append(fp.id)
    covered: dict[str, set[str]] = defaultdict(set)
    for rule in rules:
        if rule.country != ANY:
            covered[rule.country].update(SEA_CATEGORIES if rule.category == ANY else rule.category)
    warnings = []
    for country, ids in by_country.items():
        missing = [c for c in SEA_CATEGORIES if c not in covered[country]]
        if missing:
            warnings.append(
                f"country {country} has focal points ({', '.join(ids)}) but no rule for "
                f"{country} covers {' or '.join(missing)}: those reports go to a rule for "
                "every country"
            )
    used = {i for rule in rules for i in rule.recipients}
    warnings += [
        f"{where('focal_points', position, fp.id)}: no rule sends to this focal point"
        for position, fp in focal_points
        if fp.id not in used
    ]
    return warnings
