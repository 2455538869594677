"""The one receipt KDF call every path shares (intake and follow-up).

Both sides must derive exactly the same keys from a receipt, so the call is
written once: the system-wide salt, the server secret's `receipt` sub-key,
the configured cost, and a bounded place to run: the process's KDF pool for
new reports, the look-up lane (`lookup_lane.py`) for follow-ups. A new
report's receipt comes from the pool of receipts made ahead when it has one.
"""

from __future__ import annotations

from crypto.receipt import ReceiptKeys, derive_receipt_keys, new_receipt
from intake.context import AppContext
from intake.reports.receipt_pool import ReceiptPool


def derive_for(context: AppContext, receipt: str) -> ReceiptKeys:
    """Lookup value and reporter key pair of `receipt` (one Argon2id run, bounded)."""
    return context.kdf.run(lambda: _derive(context, receipt))


def derive_for_lookup(context: AppContext, receipt: str) -> ReceiptKeys:
    """The same keys, derived in the look-up lane: a guess never waits in a reporter's slot."""
    return context.lookups.run(lambda: _derive(context, receipt))


def fresh_receipt(context: AppContext) -> tuple[str, ReceiptKeys]:
    """A new receipt and its keys: one made ahead, or one derived now."""
    ready = context.receipts.take()
    if ready is not None:
        return ready
    receipt = new_receipt()
    return receipt, derive_for(context, receipt)


def start_receipt_pool(context: AppContext) -> None:
    """Keep `INTAKE_RECEIPT_POOL` receipts ready, made in idle time (the server only)."""

    def make_when_idle() -> tuple[str, ReceiptKeys] | None:
        receipt = new_receipt()
        keys = context.kdf.run_if_free(lambda: _derive(context, receipt))
        return None if keys is None else (receipt, keys)

    context.receipts = ReceiptPool(context.settings.receipt_pool, make_when_idle)
    context.receipts.start()


def _derive(context: AppContext, receipt: str) -> ReceiptKeys:
    return derive_receipt_keys(
        receipt,
        salt=context.receipt_salt,
        server_secret=context.secret.subkey("receipt"),
        cost=context.receipt_cost,
    )
