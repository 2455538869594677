"""Importing validated transcript rows, one call a transaction, idempotently.

A call id is remembered only as a keyed hash (`HotlineCall`), inserted in the
same transaction as its case: a crash between rows leaves every row either
fully imported (case and call id) or not at all, so a re-run simply goes on.
"""

from __future__ import annotations

from dataclasses import dataclass

from channels.hotline.calls import call_id_hash, is_recorded, record
from channels.hotline.schemas import to_submission
from channels.hotline.transcripts import Row
from intake.context import AppContext
from intake.errors import ServiceUnavailable, TooManyRequests
from intake.reports.service import submit
from intake.routing_tables.store import NoRoutingTable

ACTOR = "import"


@dataclass(frozen=True, repr=False)
class Imported:
    case_ref: str
    receipt: str  # grouped; only ever written to the --receipts-out file


@dataclass(frozen=True)
class Skipped:
    """The call id was imported before (by an earlier run or an earlier row)."""


@dataclass(frozen=True)
class Rejected:
    problems: tuple[str, ...]


Outcome = Imported | Skipped | Rejected


class NothingToRouteWith(Exception):
    """No routing table is loaded: no row could be imported."""


def ensure_routable(context: AppContext) -> None:
    with context.sessions() as session:
        try:
            context.routing.active(session)
        except NoRoutingTable:
            raise NothingToRouteWith from None


def import_row(context: AppContext, row: Row) -> Outcome:
    """What became of one row; an imported row is committed before this returns."""
    digest = call_id_hash(context, row.call_id) if row.call_id is not None else None
    if digest is not None and is_recorded(context, digest):
        return Skipped()
    if row.report is None or digest is None:
        return Rejected(row.problems)
    submission = to_submission(
        row.report,
        language=row.report.language or context.settings.default_language,
        actor=ACTOR,
        on_stored=record(digest),
    )
    try:
        accepted = submit(context, submission)
    except ServiceUnavailable:
        # Another import stored the same call id meanwhile (its insert collided),
        # or the database refused the row: either way nothing of it is stored.
        if is_recorded(context, digest):
            return Skipped()
        return Rejected(("row: not_stored",))
    except TooManyRequests:
        return Rejected(("row: rate_limited",))  # INTAKE_REPORT_GLOBAL_LIMIT; import it again later
    return Imported(accepted.case_ref, accepted.receipt)
