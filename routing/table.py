"""Loading and validating a routing table (SPEC 6).

``check_table_text`` never raises on bad input: it returns every problem at
once, each with its location (``rules[3] (id "ke-sea"): …``; positions count
from 0 within their section), plus warnings about gaps that do not make the
table invalid. ``load_table_text`` and ``load_table_file`` raise
``TableInvalid`` instead. A ``RoutingTable`` built directly in Python is
checked the same way (a pydantic ``ValidationError`` when it is not valid),
so every table that exists has a catch-all and no clashing rules.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import ErrorDetails, PydanticCustomError

from crypto.envelope import kid_of
from routing import checks
from routing.demo import DEMO_FOCAL_POINT_IDS, demo_table_text
from routing.entries import (
    MAX_DEADLINE_HOURS,
    Audit,
    Escrow,
    FocalPoint,
    Number,
    Retention,
    Rule,
    Text,
    shown,
)
from routing.index import RuleIndex

__all__ = [
    "DEMO_FOCAL_POINT_IDS",
    "Audit",
    "CheckResult",
    "Escrow",
    "FocalPoint",
    "Number",
    "Retention",
    "RoutingTable",
    "Rule",
    "TableInvalid",
    "check_table_text",
    "demo_table_text",
    "load_table_file",
    "load_table_text",
]

SECTIONS = ("focal_points", "numbers", "rules")
TOP_LEVEL = frozenset({"version", "escrow", "audit", "retention", *SECTIONS})
MAX_VERSION_LENGTH = 100

# Our wording for pydantic's built-in error types; our own validators
# already word theirs (``routing_table`` errors keep their message).
_MESSAGES = {
    "string_type": "must be a string",
    "int_type": "must be an integer",
    "int_from_float": "must be an integer",
    "bool_type": "must be true or false",
    "tuple_type": "must be a list",
    "too_short": "must not be empty",
    "greater_than": "must be greater than 0",
    "model_type": "must be a table",
    "string_too_long": f"must be at most {MAX_VERSION_LENGTH} characters",
}
_FIELD_MESSAGES = {
    ("to", "too_short"): "must name at least one focal point",
    ("public_keys", "too_short"): "must hold at least one key",
}
_DEADLINE = f"must be a positive integer (hours), at most {MAX_DEADLINE_HOURS} (a year)"

M = TypeVar("M", bound=BaseModel)


class TableInvalid(Exception):
    """A routing table that cannot be used; ``problems`` says why, one line each."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        super().__init__(f"{count} problem{'' if count == 1 else 's'}")


@dataclass
class CheckResult:
    table: RoutingTable | None  # None exactly when there are problems
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class RoutingTable(BaseModel):
    """A valid routing table. Build it with ``load_table_text``/``load_table_file``."""

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    version: Annotated[Text, Field(max_length=MAX_VERSION_LENGTH)]
    escrow: Escrow | None = None
    audit: Audit | None = None
    retention: Retention | None = None
    focal_points: tuple[FocalPoint, ...] = ()
    numbers: tuple[Number, ...] = ()
    rules: tuple[Rule, ...] = ()

    @model_validator(mode="after")
    def _whole_table(self) -> Self:
        numbers = [number.number for number in self.numbers]
        problems = checks.table_problems(self.focal_points, self.rules, numbers)
        if problems:
            raise PydanticCustomError(
                "routing_table", "{problems}", {"problems": "; ".join(problems)}
            )
        return self

    @cached_property
    def rule_index(self) -> RuleIndex:
        """Built on first use and kept for the table's life (the table is frozen)."""
        return RuleIndex(self.rules)

    @cached_property
    def _focal_points_by_id(self) -> dict[str, FocalPoint]:
        return {fp.id: fp for fp in self.focal_points}

    @cached_property
    def _numbers_by_e164(self) -> dict[str, Number]:
        return {number.number: number for number in self.numbers}

    @cached_property
    def _rules_by_id(self) -> dict[str, Rule]:
        return {rule.id: rule for rule in self.rules}

    def focal_point(self, ident: str) -> FocalPoint | None:
        return self._focal_points_by_id.get(ident)

    def number(self, e164: str) -> Number | None:
        return self._numbers_by_e164.get(e164)

    def rule(self, ident: str) -> Rule | None:
        return self._rules_by_id.get(ident)

    def public_keys_for(self, ids: Iterable[str]) -> list[bytes]:
        """The keys of these focal points, in order, each once; KeyError for an unknown id."""
        keys: dict[bytes, None] = {}
        for ident in ids:
            focal_point = self._focal_points_by_id.get(ident)
            if focal_point is None:
                raise KeyError(f"no focal point {ident!r} in routing table {self.version!r}")
            keys.update(dict.fromkeys(focal_point.public_keys))
        return list(keys)

    @property
    def escrow_keys(self) -> list[bytes]:
        return [] if self.escrow is None else list(self.escrow.public_keys)

    def kids_of(self, focal_point_id: str) -> set[str]:
        """Key ids of a focal point's keys; empty for an unknown id."""
        focal_point = self._focal_points_by_id.get(focal_point_id)
        return set() if focal_point is None else {kid_of(k) for k in focal_point.public_keys}


def _path(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _describe(label: str, error: ErrorDetails) -> str:
    path = _path(error["loc"])
    prefix = f"{label}: " if label else ""
    if error["type"] == "missing":
        return f'{prefix}missing required field "{path}"'
    if error["type"] == "extra_forbidden":
        return f'{prefix}unknown field "{path}"'
    if error["type"] == "routing_table":  # ours, already worded
        message = error["msg"]
    elif path == "deadline_hours":
        message = _DEADLINE
    else:
        message = _FIELD_MESSAGES.get((path, error["type"]), "") or _MESSAGES.get(
            error["type"], error["msg"]
        )
    return f"{prefix}{path}: {message}"


def _validate(model: type[M], label: str, raw: object) -> tuple[M | None, list[str]]:
    try:
        return model.model_validate(raw), []
    except ValidationError as error:
        details = error.errors(include_url=False, include_context=False, include_input=False)
        return None, [_describe(label, detail) for detail in _without_repeats(details)]


def _without_repeats(details: list[ErrorDetails]) -> list[ErrorDetails]:
    """Drop "too short" for a list whose items failed: the items' errors say it."""
    failed_lists = {detail["loc"][:-1] for detail in details if len(detail["loc"]) > 1}
    return [
        detail
        for detail in details
        if not (detail["type"] == "too_short" and detail["loc"] in failed_lists)
    ]


def _section(
    doc: Mapping[str, Any], name: str
) -> tuple[list[tuple[int, dict[str, Any]]], list[str]]:
    value = doc.get(name, [])
    if not isinstance(value, list):
        return [], [f"{name}: must be an array of tables, written [[{name}]]"]
    items, problems = [], []
    for position, item in enumerate(value):
        if isinstance(item, dict):
            items.append((position, item))
        else:
            problems.append(f"{name}[{position}]: must be a table, written [[{name}]]")
    return items, problems


def _entries(
    model: type[M], name: str, raw: Sequence[tuple[int, dict[str, Any]]]
) -> tuple[list[tuple[int, M]], list[str]]:
    valid, problems = [], []
    for position, item in raw:
        entry, found = _validate(model, checks.where(name, position, item.get("id")), item)
        problems += found
        if entry is not None:
            valid.append((position, entry))
    return valid, problems


def _strings(raw: Sequence[tuple[int, dict[str, Any]]], key: str) -> list[tuple[int, str]]:
    return [(position, item[key]) for position, item in raw if isinstance(item.get(key), str)]


@dataclass
class _Header:
    version: str
    escrow: Escrow | None
    audit: Audit | None
    retention: Retention | None
    problems: list[str]


def _optional(model: type[M], name: str, doc: Mapping[str, Any], problems: list[str]) -> M | None:
    if name not in doc:
        return None
    entry, found = _validate(model, name, doc[name])
    problems += found
    return entry


def _header(doc: Mapping[str, Any]) -> _Header:
    problems = [f"unknown top-level field {shown(key)}" for key in doc if key not in TOP_LEVEL]
    version = doc.get("version")
    if version is None:
        problems.append('missing required field "version"')
    elif isinstance(version, dt.date | dt.time):
        problems.append(f'version: must be a string; quote it: version = "{version}"')
    elif not isinstance(version, str) or not version.strip():
        problems.append("version: must be a non-empty string")
    elif len(version) > MAX_VERSION_LENGTH:
        problems.append(f"version: must be at most {MAX_VERSION_LENGTH} characters")
    escrow = _optional(Escrow, "escrow", doc, problems)
    audit = _optional(Audit, "audit", doc, problems)
    retention = _optional(Retention, "retention", doc, problems)
    text = version if isinstance(version, str) else ""
    return _Header(text, escrow, audit, retention, problems)


def _parse(text: str) -> tuple[dict[str, Any] | None, str]:
    try:
        return tomllib.loads(text), ""
    except tomllib.TOMLDecodeError as error:
        return None, f"not TOML: {error}"
    except RecursionError:  # tomllib recurses once per level of nested arrays
        return None, "not TOML: nested too deeply"


def check_table_text(text: str) -> CheckResult:
    """Validate a routing table: every problem with its location, and warnings."""
    doc, problem = _parse(text)
    if doc is None:
        return CheckResult(None, [problem], [])
    header = _header(doc)
    problems = header.problems
    raw: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for name in SECTIONS:
        raw[name], found = _section(doc, name)
        problems += found
    focal_points, found = _entries(FocalPoint, "focal_points", raw["focal_points"])
    numbers, more = _entries(Number, "numbers", raw["numbers"])
    rules, most = _entries(Rule, "rules", raw["rules"])
    problems += found + more + most
    problems += _whole_table_problems(raw, rules)
    warnings = checks.table_warnings(focal_points, [rule for _, rule in rules])
    if problems:
        return CheckResult(None, problems, warnings)
    table = RoutingTable.model_construct(  # already checked above: do not check twice
        version=header.version,
        escrow=header.escrow,
        audit=header.audit,
        retention=header.retention,
        focal_points=tuple(fp for _, fp in focal_points),
        numbers=tuple(number for _, number in numbers),
        rules=tuple(rule for _, rule in rules),
    )
    return CheckResult(table, [], warnings)


def _whole_table_problems(
    raw: Mapping[str, Sequence[tuple[int, dict[str, Any]]]], rules: Sequence[tuple[int, Rule]]
) -> list[str]:
    """Duplicates and references over raw entries too, so that one entry's own
    mistake does not also show up as someone else's unknown reference."""
    focal_ids = _strings(raw["focal_points"], "id")
    problems = checks.duplicates("focal_points", focal_ids)
    problems += checks.duplicates("numbers", _strings(raw["numbers"], "number"), what="number")
    problems += checks.duplicates("rules", _strings(raw["rules"], "id"))
    problems += checks.unknown_recipients(_references(raw["rules"]), {i for _, i in focal_ids})
    written_catch_all = any(
        all(item.get(name) == "*" for name in checks.FIELDS) for _, item in raw["rules"]
    )
    if not (written_catch_all or checks.has_catch_all(rule for _, rule in rules)):
        problems.append(checks.NO_CATCH_ALL)
    return problems + checks.clashes(rules)


def _references(raw: Sequence[tuple[int, dict[str, Any]]]) -> Iterator[checks.Reference]:
    """Recipients named by rules, also by rules that are wrong in other ways."""
    for position, item in raw:
        location = checks.where("rules", position, item.get("id"))
        for field_name in ("to", "cc"):
            names = item.get(field_name)
            if isinstance(names, list):
                yield from ((location, field_name, ident) for ident in names)


def load_table_text(text: str) -> RoutingTable:
    result = check_table_text(text)
    if result.table is None:
        raise TableInvalid(result.problems)
    return result.table


def load_table_file(path: Path) -> RoutingTable:
    """Read and load a table; an unreadable file is one problem naming the file."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as error:
        raise TableInvalid([f"{path}: cannot read the routing table: {error.strerror}"]) from None
    except UnicodeDecodeError:
        raise TableInvalid([f"{path}: the routing table is not UTF-8 text"]) from None
    return load_table_text(text)
