"""Routing decision cost as the table grows: 100, 1,000 and 10,000 rules.

Run: python bench/bench_routing.py [--reports N] [--repeat R]

Each table spreads its rules over every assigned country (country
catch-alls, SEA rules, per-agency and per-agency child rules), so it is
valid by construction and the larger tables have many rules per country.
decide() is timed over the same random reports for every size and compared
with the 100-rule table (the ratio should stay near 1: the index makes a
decision a handful of dictionary look-ups). A naive linear scan over all
rules, measured in the same run, shows what the index saves. Also printed:
the time to validate each table (including the clash check). Medians of
several repetitions; nothing is asserted about time.

The index tries the most specific look-ups first and stops at the first
hit. The "worst" columns time reports from a country that has no rule in
any table (Antarctica): they always take all 16 look-ups and always end at
the same catch-all, the like-for-like comparison of table size alone. Mixed
reports in a large table end at many different rules, which costs some
processor-cache misses (a ratio of about 1.1 to 1.4 here) but no more
look-ups. Sizes take turns within each repetition so that other load on the
machine slows them alike.
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import statistics
import time
from collections.abc import Callable, Iterator, Sequence

from nacl.public import PrivateKey

from routing.constants import CATEGORIES, COUNTRY_CODES, SEA_CATEGORIES
from routing.engine import Facts, decide
from routing.table import RoutingTable, Rule, load_table_text

SIZES = (100, 1_000, 10_000)
AGENCIES = tuple(f"AGENCY{n:02d}" for n in range(25))
# A real X25519 key: the table checks that every key is a full-order point.
KEY = base64.b64encode(bytes(PrivateKey(bytes(range(32))).public_key)).decode()
NO_RULES = "AQ"  # no table has a rule for it: its reports take every look-up
COUNTRIES = sorted(COUNTRY_CODES - {NO_RULES})


def _rules_of(country: str) -> Iterator[dict[str, object]]:
    """A country's rules from general to specific; no two of equal weight overlap."""
    base = {"country": country, "deadline_hours": 24, "to": [f"{country.lower()}-psea"]}
    yield {**base, "category": "*", "affiliation": "*", "child": "*"}
    yield {**base, "category": list(SEA_CATEGORIES), "affiliation": "*", "child": "*"}
    for agency in AGENCIES:
        yield {**base, "category": list(SEA_CATEGORIES), "affiliation": agency, "child": "*"}
        yield {**base, "category": list(SEA_CATEGORIES), "affiliation": agency, "child": True}


def table_text(size: int) -> str:
    """A valid table of ``size`` rules: layer by layer over all countries, then a catch-all."""
    per_country = [list(_rules_of(country)) for country in COUNTRIES]
    layers = (rules[k] for k in range(len(per_country[0])) for rules in per_country)
    rules = [rule for rule, _ in zip(layers, range(size - 1), strict=False)]
    rules.append({"country": "*", "category": "*", "affiliation": "*", "child": "*",
                  "to": ["global-psea"], "deadline_hours": 72})  # fmt: skip
    lines = ['version = "bench"']
    for ident, country in [(f"{c.lower()}-psea", c) for c in COUNTRIES] + [("global-psea", "CH")]:
        lines += ["[[focal_points]]", f'id = "{ident}"', 'name = "PSEA"', 'agency = "UN"',
                  f'country = "{country}"', f'public_keys = ["{KEY}"]']  # fmt: skip
    for n, rule in enumerate(rules):
        lines += ["[[rules]]", f'id = "r{n}"'] + [f"{k} = {json.dumps(v)}" for k, v in rule.items()]
    return "\n".join(lines) + "\n"


def random_reports(count: int, countries: Sequence[str], seed: int = 5) -> list[Facts]:
    rng = random.Random(seed)
    affiliations = [*AGENCIES, "unknown", "OTHER"]
    return [
        Facts(
            rng.choice(countries),
            rng.choice(CATEGORIES),
            rng.choice(affiliations),
            rng.choice((True, False, None)),
        )
        for _ in range(count)
    ]


def _matches(rule: Rule, facts: Facts) -> bool:
    return (
        rule.country in ("*", facts.country)
        and (rule.category == "*" or facts.category in rule.category)
        and rule.affiliation in ("*", facts.affiliation)
        and (rule.child == "*" or (facts.child is not None and rule.child == facts.child))
    )


def naive_rule_id(table: RoutingTable, facts: Facts) -> str:
    """The reference: scan every rule, keep the heaviest match."""
    best = max((rule for rule in table.rules if _matches(rule, facts)), key=lambda r: r.weight)
    return best.id


def us_per_call(call: Callable[[Facts], object], reports: Sequence[Facts]) -> float:
    start = time.perf_counter()
    for facts in reports:
        call(facts)
    return (time.perf_counter() - start) / len(reports) * 1e6


def interleaved_medians(
    cases: Sequence[tuple[Callable[[Facts], object], Sequence[Facts]]], repeat: int
) -> list[float]:
    """Median µs per call of each case; the cases take turns within every
    repetition, so a busy machine slows them alike instead of skewing ratios."""
    runs: list[list[float]] = [[] for _ in cases]
    for _ in range(repeat):
        for times, (call, reports) in zip(runs, cases, strict=True):
            times.append(us_per_call(call, reports))
    return [statistics.median(times) for times in runs]


def _decider(table: RoutingTable) -> Callable[[Facts], object]:
    return lambda facts: decide(table, facts)


def _naive(table: RoutingTable) -> Callable[[Facts], object]:
    return lambda facts: naive_rule_id(table, facts)


def load_and_verify(size: int, samples: Sequence[Facts]) -> tuple[RoutingTable, float]:
    """The table of ``size`` rules and its validation time in ms; checks that
    decide() gives the reference's answer on ``samples`` before any timing."""
    text = table_text(size)
    start = time.perf_counter()
    table = load_table_text(text)
    check_ms = (time.perf_counter() - start) * 1e3
    assert len(table.rules) == size
    for facts in samples:
        assert decide(table, facts).rule_id == naive_rule_id(table, facts)
    return table, check_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    reports = random_reports(args.reports, sorted(COUNTRY_CODES))
    worst_reports = random_reports(args.reports, [NO_RULES])
    naive_reports = reports[:200]
    loaded = [load_and_verify(size, naive_reports + worst_reports[:50]) for size in SIZES]
    fast = interleaved_medians([(_decider(t), reports) for t, _ in loaded], args.repeat)
    worst = interleaved_medians([(_decider(t), worst_reports) for t, _ in loaded], args.repeat)
    slow = interleaved_medians([(_naive(t), naive_reports) for t, _ in loaded], 3)
    print(f"{'rules':>7} {'check ms':>9} {'decide µs':>10} {'ratio':>6} {'worst µs':>9} "
          f"{'ratio':>6} {'naive µs':>9} {'ratio':>7} {'naive/decide':>13}")  # fmt: skip
    for n, (size, (_, check_ms)) in enumerate(zip(SIZES, loaded, strict=True)):
        print(f"{size:>7,} {check_ms:>9.1f} {fast[n]:>10.2f} {fast[n] / fast[0]:>6.2f} "
              f"{worst[n]:>9.2f} {worst[n] / worst[0]:>6.2f} {slow[n]:>9.1f} "
              f"{slow[n] / slow[0]:>7.1f} {slow[n] / fast[n]:>13.0f}")  # fmt: skip


if __name__ == "__main__":
    main()
