"""Routing decisions: clear report fields in, deciding rule and recipients out.

Pure and deterministic: the same table and facts always give the same
decision, and nothing here knows about channels, cases or storage.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from routing.table import RoutingTable, Rule


@dataclass(frozen=True, slots=True)
class Facts:
    """The clear fields of a report that routing reads (SPEC 4, ReportIn)."""

    country: str
    category: str
    affiliation: str  # an agency code or "unknown"
    child: bool | None  # victim_is_child


@dataclass(frozen=True, slots=True)
class Decision:
    rule_id: str
    recipients: tuple[str, ...]  # focal point ids: the rule's `to`, then `cc`, each once
    deadline_hours: int
    table_version: str
    explanation: str  # for people: "KE, sexual_abuse, UNICEF, child → rule … (4 fields)"

    def due_at(self, received_at: datetime) -> datetime:
        """``received_at`` plus the deadline (SPEC 9); keeps its time zone."""
        return received_at + timedelta(hours=self.deadline_hours)


_CHILD_WORDS = {True: "child", False: "not a child", None: "child unknown"}


def _explain(facts: Facts, rule: Rule) -> str:
    weight = rule.weight
    fields = "field" if weight == 1 else "fields"
    report = ", ".join(
        (facts.country, facts.category, facts.affiliation, _CHILD_WORDS[facts.child])
    )
    return f"{report} → rule {rule.id} ({weight} {fields})"


def decide(table: RoutingTable, facts: Facts) -> Decision:
    """The decision of the matching rule with the most fields that are not ``"*"``.

    A rule matches when each of its four fields equals the report's value or
    is ``"*"`` (a category list: contains the report's category). A rule's
    ``child = true`` or ``false`` matches only that value; a report whose
    child flag is None matches only ``child = "*"``. A valid table has a
    catch-all and no clashes, so exactly one rule decides. The look-up goes
    through the table's cached index: its cost does not grow with the table.
    """
    rule = table.rule_index.deciding_rule(
        facts.country, facts.category, facts.affiliation, facts.child
    )
    if rule is None:  # only a table built with model_construct can lack a catch-all
        raise LookupError(f"routing table {table.version!r} has no catch-all rule")
    return Decision(
        rule_id=rule.id,
        recipients=rule.recipients,
        deadline_hours=rule.deadline_hours,
        table_version=table.version,
        explanation=_explain(facts, rule),
    )


def coordinator_for(table: RoutingTable, country: str) -> tuple[str, ...]:
    """Who is alerted when a case from ``country`` is overdue and unacknowledged.

    The recipients of the country's own catch-all rule (``country`` set to
    that country; category, affiliation and child all ``"*"``, or a category
    list naming every category), else those of the table's catch-all rule.
    The routing table has no separate "coordinator" field, so the rule that
    takes everything else from a country is taken to name who coordinates
    there; in the demo table that is the PSEA Network coordinator.
    """
    index = table.rule_index
    rule = index.catch_all(country) or index.catch_all("*")
    if rule is None:  # as in decide(): impossible for a validated table
        raise LookupError(f"routing table {table.version!r} has no catch-all rule")
    return rule.recipients
