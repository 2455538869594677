"""The one receipt KDF call every path shares (intake and follow-up).

Both sides must derive exactly the same keys from a receipt, so the call is
written once: the system-wide salt, the server secret's `receipt` sub-key,
the configured cost, and the process's bounded KDF pool.
"""

from __future__ import annotations

from crypto.receipt import ReceiptKeys, derive_receipt_keys
from intake.context import AppContext


def derive_for(context: AppContext, receipt: str) -> ReceiptKeys:
    """Lookup value and reporter key pair of `receipt` (one Argon2id run, bounded)."""
    return context.kdf.run(
        lambda: derive_receipt_keys(
            receipt,
            salt=context.receipt_salt,
            server_secret=context.secret.subkey("receipt"),
            cost=context.receipt_cost,
        )
    )
