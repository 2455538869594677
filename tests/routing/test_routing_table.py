"""Loading and validating routing tables: every problem, with its location."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pydantic
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crypto.keys import keypair_from_seed
from routing.table import (
    DEMO_FOCAL_POINT_IDS,
    Number,
    RoutingTable,
    Rule,
    TableInvalid,
    check_table_text,
    demo_table_text,
    load_table_file,
    load_table_text,
)

Doc = dict[str, Any]
Toml = Callable[[Doc], str]


def _key(n: int) -> bytes:
    """The real public key that `conftest.key_b64(n)` encodes."""
    return keypair_from_seed(bytes([n]) * 32).public_key


KEY_1 = base64.b64encode(_key(1)).decode()
DEADLINE = "deadline_hours: must be a positive integer (hours), at most 8760 (a year)"


def _set(section: str, position: int, **fields: Any) -> Callable[[Doc], None]:
    def change(doc: Doc) -> None:
        doc[section][position].update(fields)

    return change


def _drop(section: str, position: int, name: str) -> Callable[[Doc], None]:
    def change(doc: Doc) -> None:
        del doc[section][position][name]

    return change


def _add_rule(**fields: Any) -> Callable[[Doc], None]:
    def change(doc: Doc) -> None:
        base = {"country": "*", "category": "*", "affiliation": "*", "child": "*"}
        doc["rules"].append({**base, "to": ["global"], "deadline_hours": 24, **fields})

    return change


def _remove_catch_all(doc: Doc) -> None:
    doc["rules"].pop()


PROBLEMS: list[tuple[str, Callable[[Doc], None], str]] = [
    ("missing field", _drop("rules", 1, "deadline_hours"),
     'rules[1] (id "ke-sea-wfp"): missing required field "deadline_hours"'),
    ("missing name", _drop("focal_points", 0, "name"),
     'focal_points[0] (id "ke-unicef"): missing required field "name"'),
    ("unknown field", _set("rules", 0, deadline=3),
     'rules[0] (id "ke-sea-unicef"): unknown field "deadline"'),
    ("deadline zero", _set("rules", 0, deadline_hours=0),
     f'rules[0] (id "ke-sea-unicef"): {DEADLINE}'),
    ("deadline negative", _set("rules", 0, deadline_hours=-4),
     f'rules[0] (id "ke-sea-unicef"): {DEADLINE}'),
    ("deadline float", _set("rules", 0, deadline_hours=2.5),
     f'rules[0] (id "ke-sea-unicef"): {DEADLINE}'),
    ("deadline string", _set("rules", 0, deadline_hours="24"),
     f'rules[0] (id "ke-sea-unicef"): {DEADLINE}'),
    ("deadline too long", _set("rules", 0, deadline_hours=8761),
     f'rules[0] (id "ke-sea-unicef"): {DEADLINE}'),
    ("deadline bool", _set("rules", 0, deadline_hours=True),
     f'rules[0] (id "ke-sea-unicef"): {DEADLINE}'),
    ("name not a string", _set("focal_points", 1, name=7),
     'focal_points[1] (id "ke-wfp"): name: must be a string'),
    ("name empty", _set("focal_points", 1, name="  "),
     'focal_points[1] (id "ke-wfp"): name: must not be empty'),
    ("to not a list", _set("rules", 1, to="ke-wfp"),
     'rules[1] (id "ke-sea-wfp"): to: must be a list'),
    ("empty to", _set("rules", 1, to=[]),
     'rules[1] (id "ke-sea-wfp"): to: must name at least one focal point'),
    ("unknown focal point in to", _set("rules", 0, to=["ke-unicf"]),
     'rules[0] (id "ke-sea-unicef"): unknown focal point "ke-unicf" in to'),
    ("unknown focal point in cc", _set("rules", 0, cc=["nobody"]),
     'rules[0] (id "ke-sea-unicef"): unknown focal point "nobody" in cc'),
    ("duplicate focal point", lambda d: d["focal_points"].append(d["focal_points"][0]),
     'focal_points[3] (id "ke-unicef"): id already used by focal_points[0]'),
    ("duplicate rule", _set("rules", 1, id="ke-sea-unicef"),
     'rules[1] (id "ke-sea-unicef"): id already used by rules[0]'),
    ("duplicate number", lambda d: d["numbers"].append(dict(d["numbers"][0])),
     "numbers[1]: same number as numbers[0]"),
    ("bad id", _set("rules", 1, id="has space"),
     "rules[1] (id \"has space\"): id: must be 1 to 100 letters, digits, '.', '_', ':' or '-', "
     'starting with a letter or digit, not "has space"'),
    ("focal point country lower case", _set("focal_points", 0, country="ke"),
     'focal_points[0] (id "ke-unicef"): country: "ke" is not an assigned ISO 3166-1 alpha-2 '
     "country code in upper case"),
    ("focal point country star", _set("focal_points", 0, country="*"),
     'focal_points[0] (id "ke-unicef"): country: "*" is not an assigned ISO 3166-1 alpha-2 '
     "country code in upper case"),
    ("number country", _set("numbers", 0, country="XK"),
     'numbers[0]: country: "XK" is not an assigned ISO 3166-1 alpha-2 country code in upper case'),
    ("rule country", _set("rules", 0, country="KEN"),
     'rules[0] (id "ke-sea-unicef"): country: "KEN" is not an assigned ISO 3166-1 alpha-2 '
     "country code in upper case"),
    ("number not E.164", _set("numbers", 0, number="0700 000 001"),
     "numbers[0]: number: must be an E.164 number: '+' then up to 15 digits"),
    ("number language", _set("numbers", 0, languages=["Swahili"]),
     'numbers[0]: languages[0]: "Swahili" is not a BCP 47 primary language tag such as "sw"'),
    ("unknown category", _set("rules", 0, category=["sexual_abuse", "rape"]),
     'rules[0] (id "ke-sea-unicef"): category: "rape" is not a category; known: '
     "sexual_exploitation, sexual_abuse, sexual_harassment, abuse_of_authority, discrimination, "
     "fraud_corruption, programme_feedback, other"),
    ("category bare string", _set("rules", 0, category="sexual_abuse"),
     'rules[0] (id "ke-sea-unicef"): category: must be "*" or a list of categories'),
    ("category empty", _set("rules", 0, category=[]),
     'rules[0] (id "ke-sea-unicef"): category: must not be an empty list (use "*" for every '
     "category)"),
    ("child word", _set("rules", 0, child="yes"),
     'rules[0] (id "ke-sea-unicef"): child: must be true, false or "*"'),
    ("child number", _set("rules", 0, child=1),
     'rules[0] (id "ke-sea-unicef"): child: must be true, false or "*"'),
    ("affiliation padded", _set("rules", 0, affiliation=" UNICEF"),
     'rules[0] (id "ke-sea-unicef"): affiliation: must be "*", "unknown" or an agency code, '
     'not " UNICEF"'),
    ("key not base64", _set("focal_points", 2, public_keys=["not base64!"]),
     'focal_points[2] (id "global"): public_keys[0]: is not standard base64'),
    ("key too short", _set("focal_points", 2, public_keys=[KEY_1, "AAAA"]),
     'focal_points[2] (id "global"): public_keys[1]: is 3 bytes long; a public key is exactly '
     "32 bytes"),
    ("key too long", _set("focal_points", 2, public_keys=[base64.b64encode(b"k" * 33).decode()]),
     'focal_points[2] (id "global"): public_keys[0]: is 33 bytes long; a public key is exactly '
     "32 bytes"),
    ("no keys", _set("focal_points", 2, public_keys=[]),
     'focal_points[2] (id "global"): public_keys: must hold at least one key'),
    ("escrow key", lambda d: d["escrow"].update(public_keys=["AAAA"]),
     "escrow: public_keys[0]: is 3 bytes long; a public key is exactly 32 bytes"),
    ("escrow without keys", lambda d: d["escrow"].clear(),
     'escrow: missing required field "public_keys"'),
    ("notify not a URI", _set("focal_points", 0, notify=["psea.ke@example.org"]),
     'focal_points[0] (id "ke-unicef"): notify[0]: "psea.ke@example.org" is not a URI such as '
     '"mailto:psea@example.org"'),
    ("no catch-all", _remove_catch_all,
     'no catch-all rule: add a rule with country, category, affiliation and child all "*", '
     "so that every report reaches someone"),
    ("unknown top-level field", lambda d: d.update(owner="me"), 'unknown top-level field "owner"'),
    ("missing version", lambda d: d.pop("version"), 'missing required field "version"'),
    ("version empty", lambda d: d.update(version=""), "version: must be a non-empty string"),
    ("version too long", lambda d: d.update(version="v" * 101),
     "version: must be at most 100 characters"),
    ("numbers not an array of tables", lambda d: d.update(numbers="+254700000001"),
     "numbers: must be an array of tables, written [[numbers]]"),
    ("rule not a table", lambda d: d["rules"].insert(0, "ke-all"),
     "rules[0]: must be a table, written [[rules]]"),
    ("clash", _add_rule(id="ke-sea-unicef-2", country="KE", category=["sexual_abuse"],
                        affiliation="UNICEF"),
     'rules[0] (id "ke-sea-unicef") and rules[3] (id "ke-sea-unicef-2") clash: both have 3 '
     'fields that are not "*" and both match a report such as KE, sexual_abuse, UNICEF, child or '
     "not; make one more specific or narrow one of them"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("change", "problem"), [case[1:] for case in PROBLEMS], ids=[case[0] for case in PROBLEMS]
)
def test_each_problem_is_reported_with_its_location(
    doc: Doc, toml: Toml, change: Callable[[Doc], None], problem: str
) -> None:
    change(doc)
    result = check_table_text(toml(doc))
    assert result.problems == [problem]
    assert result.table is None
    with pytest.raises(TableInvalid) as raised:
        load_table_text(toml(doc))
    assert raised.value.problems == [problem]
    assert str(raised.value) == "1 problem"


def test_all_problems_are_reported_at_once(doc: Doc, toml: Toml) -> None:
    changes = [case for case in PROBLEMS if case[0] in {"deadline zero", "unknown category"}]
    changes += [case for case in PROBLEMS if case[0] in {"key too short", "duplicate number"}]
    for _, change, _ in changes:
        change(doc)
    # A rule that is wrong in another way still has its references checked.
    doc["rules"][1]["to"] = ["ke-wpf"]
    result = check_table_text(toml(doc))
    expected = {problem for _, _, problem in changes}
    expected.add('rules[1] (id "ke-sea-wfp"): unknown focal point "ke-wpf" in to')
    assert set(result.problems) == expected
    with pytest.raises(TableInvalid, match=r"^5 problems$"):
        load_table_text(toml(doc))


def test_an_invalid_catch_all_is_not_also_reported_missing(doc: Doc, toml: Toml) -> None:
    doc["rules"][2]["deadline_hours"] = 0
    assert check_table_text(toml(doc)).problems == [f'rules[2] (id "catch-all"): {DEADLINE}']


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('version = "x"\nrules = [\n', "not TOML: "),
        ('version = "x"\n[[rules]\n', "not TOML: "),
        ("a = " + "[" * 5000, "not TOML: nested too deeply"),
        ("version = 2026-11-01\n", 'version: must be a string; quote it: version = "2026-11-01"'),
    ],
)
def test_text_that_is_not_a_table(text: str, problem: str) -> None:
    result = check_table_text(text)
    assert result.table is None
    assert result.problems[0].startswith(problem)


def test_a_toml_error_gives_its_line() -> None:
    result = check_table_text('version = "x"\n\n[[rules]]\nid = \n')
    assert result.problems == ["not TOML: Invalid value (at line 4, column 6)"]


def test_a_valid_table_loads(doc: Doc, toml: Toml) -> None:
    result = check_table_text(toml(doc))
    assert result.problems == []
    assert result.warnings == []
    table = result.table
    assert table is not None
    assert table == load_table_text(toml(doc))
    assert table.version == "2026-11-01"
    assert [rule.id for rule in table.rules] == ["ke-sea-unicef", "ke-sea-wfp", "catch-all"]
    assert table.rules[0].category == ("sexual_exploitation", "sexual_abuse")
    assert table.rules[0].recipients == ("ke-unicef", "global")
    assert table.rules[2].deadline_hours == 72


def test_helpers(doc: Doc, toml: Toml, public_key: Callable[[int], str]) -> None:
    doc["focal_points"][1]["public_keys"] = [public_key(2), public_key(9)]
    table = load_table_text(toml(doc))
    unicef = table.focal_point("ke-unicef")
    assert unicef is not None
    assert unicef.public_keys == (_key(1),)
    assert table.focal_point("nobody") is None
    number = table.number("+254700000001")
    assert number is not None
    assert number.languages == ("sw", "en")
    assert table.number("+254700000009") is None
    rule = table.rule("ke-sea-wfp")
    assert rule is not None
    assert rule.affiliation == "WFP"
    assert table.public_keys_for(["ke-wfp", "ke-unicef", "ke-wfp"]) == [
        _key(2),
        _key(9),
        _key(1),
    ]
    with pytest.raises(KeyError, match="nobody"):
        table.public_keys_for(["ke-unicef", "nobody"])
    assert table.escrow_keys == [_key(200)]
    expected = {hashlib.blake2b(_key(n), digest_size=16).hexdigest() for n in (2, 9)}
    assert table.kids_of("ke-wfp") == expected
    assert table.kids_of("nobody") == set()


def test_escrow_is_optional_and_numbers_may_be_empty(doc: Doc, toml: Toml) -> None:
    del doc["escrow"]
    doc["numbers"] = []
    table = load_table_text(toml(doc))
    assert table.escrow is None
    assert table.escrow_keys == []
    assert table.numbers == ()


def test_repeated_categories_are_harmless(doc: Doc, toml: Toml) -> None:
    doc["rules"][0]["category"] = ["sexual_abuse", "sexual_abuse"]
    table = load_table_text(toml(doc))
    assert table.rules[0].category == ("sexual_abuse",)


def test_numbers_stay_out_of_reprs_and_problems(doc: Doc, toml: Toml) -> None:
    table = load_table_text(toml(doc))
    assert "254700000001" not in repr(table)
    assert "254700000001" not in str(table.numbers[0])
    doc["numbers"].append(dict(doc["numbers"][0]))
    doc["numbers"].append({"number": "+2547000000099999", "country": "KE", "languages": []})
    problems = check_table_text(toml(doc)).problems
    assert len(problems) == 2
    assert not any("2547000000" in problem for problem in problems)


def test_a_table_built_in_python_is_checked_too() -> None:
    lonely = Rule(
        id="ke", country="KE", category="*", affiliation="*", child="*", to=("x",),
        deadline_hours=1,
    )  # fmt: skip
    with pytest.raises(pydantic.ValidationError) as raised:
        RoutingTable(version="v", rules=(lonely,))
    message = str(raised.value)
    assert 'rules[0] (id "ke"): unknown focal point "x" in to' in message
    assert "no catch-all rule" in message


def test_a_number_takes_bytes_keys_in_python() -> None:
    assert Number(number="+254700000001", country="KE", languages=("sw",)).country == "KE"
    with pytest.raises(pydantic.ValidationError, match="33 bytes long"):
        RoutingTable(version="v", escrow={"public_keys": [b"k" * 33]})


# Warnings --------------------------------------------------------------------------------


def test_a_country_without_its_own_sea_rule_is_warned_about(
    doc: Doc, toml: Toml, make_focal_point: Callable[..., Doc], make_rule: Callable[..., Doc]
) -> None:
    doc["focal_points"].append(make_focal_point("so-unhcr", "SO", 4, agency="UNHCR"))
    doc["rules"].insert(0, make_rule("so-harassment", "SO", ["sexual_harassment"], to=["so-unhcr"]))
    doc["rules"].insert(0, make_rule("so-sea", "SO", ["sexual_abuse"], to=["so-unhcr"]))
    result = check_table_text(toml(doc))
    assert result.problems == []
    assert result.table is not None
    assert result.warnings == [
        "country SO has focal points (so-unhcr) but no rule for SO covers sexual_exploitation: "
        "those reports go to a rule for every country"
    ]
    # A rule for every category of SO covers SEA there too.
    doc["rules"].insert(0, make_rule("so-all", "SO", to=["so-unhcr"]))
    assert check_table_text(toml(doc)).warnings == []


def test_an_unused_focal_point_is_warned_about(doc: Doc, toml: Toml) -> None:
    doc["rules"][1]["to"] = ["ke-unicef"]
    result = check_table_text(toml(doc))
    assert result.problems == []
    assert result.warnings == ['focal_points[1] (id "ke-wfp"): no rule sends to this focal point']


def test_a_global_focal_point_needs_no_rule_for_its_own_country(
    doc: Doc, toml: Toml, make_focal_point: Callable[..., Doc]
) -> None:
    # "global" (CH) receives the catch-all; a second focal point in CH does not.
    doc["focal_points"].append(make_focal_point("ch-ilo", "CH", 5, agency="ILO"))
    doc["rules"][2]["cc"] = ["ch-ilo"]
    assert check_table_text(toml(doc)).warnings == []
    doc["rules"][2]["cc"] = []
    doc["rules"][1]["cc"] = ["ch-ilo"]
    assert check_table_text(toml(doc)).warnings == [
        "country CH has focal points (ch-ilo) but no rule for CH covers sexual_exploitation or "
        "sexual_abuse: those reports go to a rule for every country"
    ]


# Files --------------------------------------------------------------------------------------


def test_load_table_file(doc: Doc, toml: Toml, tmp_path: Path) -> None:
    path = tmp_path / "routing.toml"
    path.write_bytes(b"\xef\xbb\xbf" + toml(doc).encode())  # a BOM from a Windows editor
    assert load_table_file(path).version == "2026-11-01"


def test_an_unreadable_file_is_one_problem_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(TableInvalid) as raised:
        load_table_file(missing)
    assert raised.value.problems == [
        f"{missing}: cannot read the routing table: No such file or directory"
    ]
    binary = tmp_path / "latin1.toml"
    binary.write_bytes(b'version = "caf\xe9"\n')
    with pytest.raises(TableInvalid) as raised:
        load_table_file(binary)
    assert raised.value.problems == [f"{binary}: the routing table is not UTF-8 text"]


def test_an_invalid_file_keeps_every_problem(doc: Doc, toml: Toml, tmp_path: Path) -> None:
    doc["rules"][0]["to"] = []
    doc["rules"].pop()
    path = tmp_path / "routing.toml"
    path.write_text(toml(doc), encoding="utf-8")
    with pytest.raises(TableInvalid, match=r"^2 problems$") as raised:
        load_table_file(path)
    assert raised.value.problems[0].startswith('rules[0] (id "ke-sea-unicef"): to: ')


# Demo table -------------------------------------------------------------------------------


@pytest.mark.parametrize("escrow", [None, base64.b64encode(_key(101)).decode()])
def test_the_demo_table_is_valid_and_quiet(
    public_key: Callable[[int], str], escrow: str | None
) -> None:
    keys = {ident: public_key(n) for n, ident in enumerate(DEMO_FOCAL_POINT_IDS)}
    result = check_table_text(demo_table_text(public_keys=keys, escrow_public_key=escrow))
    assert result.problems == []
    assert result.warnings == []
    table = result.table
    assert table is not None
    assert table.version == "demo"
    assert tuple(fp.id for fp in table.focal_points) == DEMO_FOCAL_POINT_IDS
    assert {"ke-unicef", "ke-wfp", "ke-coordinator", "global-psea"} <= set(DEMO_FOCAL_POINT_IDS)
    assert {fp.country for fp in table.focal_points} >= {"KE", "SO", "SD", "CD", "HT"}
    assert table.escrow_keys == ([] if escrow is None else [_key(101)])
    assert {number.country for number in table.numbers} == {"KE", "SO"}
    catch_all = table.rule("catch-all")
    assert catch_all is not None
    assert (catch_all.to, catch_all.deadline_hours) == (("global-psea",), 72)
    sea = [rule for rule in table.rules if rule.category == ("sexual_exploitation", "sexual_abuse")]
    assert sea
    assert all(rule.deadline_hours == 24 for rule in sea)
    assert any(rule.child is True for rule in table.rules)


def test_the_demo_table_needs_every_key(public_key: Callable[[int], str]) -> None:
    keys = {ident: public_key(n) for n, ident in enumerate(DEMO_FOCAL_POINT_IDS[1:])}
    with pytest.raises(KeyError, match=DEMO_FOCAL_POINT_IDS[0]):
        demo_table_text(public_keys=keys, escrow_public_key=None)


# Whatever the input, a list of problems, never an exception ----------------------------------

_names = st.sampled_from(
    ["id", "country", "category", "affiliation", "child", "to", "cc", "deadline_hours",
     "public_keys", "name", "agency", "number", "languages", "notify", "version", "other"]
)  # fmt: skip
_scalars = st.one_of(
    st.text(max_size=8),
    st.integers(),
    st.booleans(),
    st.sampled_from(["*", "KE", "sexual_abuse", "+254700000001", KEY_1, "global"]),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_names, inner, max_size=3),
    max_leaves=8,
)
_entries = st.lists(st.dictionaries(_names, _values, max_size=8), max_size=3)
_docs = st.fixed_dictionaries(
    {},
    optional={
        "version": _values,
        "escrow": _values,
        "focal_points": _entries | _values,
        "numbers": _entries,
        "rules": _entries | _values,
        "other": _values,
    },
)


@given(_docs)
def test_any_document_gives_problems_not_exceptions(toml: Toml, doc: Doc) -> None:
    result = check_table_text(toml(doc))
    assert (result.table is None) == bool(result.problems)
    assert all(isinstance(problem, str) and "\n" not in problem for problem in result.problems)


@given(st.text())
def test_any_text_gives_problems_not_exceptions(text: str) -> None:
    result = check_table_text(text)
    assert result.table is None
    assert result.problems


def test_the_audit_section_is_optional_and_names_notify_addresses(doc: Doc, toml: Toml) -> None:
    assert load_table_text(toml(doc)).audit is None
    doc["audit"] = {"notify": ["mailto:audit@example.org", "https://audit.example.org/head"]}
    table = load_table_text(toml(doc))
    assert table.audit is not None
    assert table.audit.notify == ("mailto:audit@example.org", "https://audit.example.org/head")
    doc["audit"] = {"notify": ["not a uri"], "extra": 1}
    problems = check_table_text(toml(doc)).problems
    assert any(problem.startswith("audit: notify[0]") for problem in problems), problems
    assert any("extra" in problem for problem in problems), problems
