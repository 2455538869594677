"""The receipt on request, once (the console's answer to "the operator could read it later").

Saving a call does not show its receipt. The saved page says to get the
caller ready and offers one button, "Show the receipt to read it aloud"; its
form carries a ticket: the receipt, the call's keyed id, the operator and an
expiry, sealed with the server's draft key (the page and the browser's
history hold only that sealed blob). Posting the ticket shows the digits
once: the call's row is marked shown in the same transaction, so a reload,
Back or a second click finds it marked and shows no digits. Every console
page is sent `Cache-Control: no-store`, so neither page stays in the cache.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime, timedelta

from sqlalchemy import update

from channels.hotline.models import HotlineCall
from crypto.secretbox import DraftError, open_draft, seal_draft
from intake.context import AppContext
from intake.db import transaction
from intake.models import utcnow

TICKET_FIELD = "ticket"
TICKET_LIFETIME = timedelta(minutes=30)


def new_ticket(
    context: AppContext, *, receipt: str, call: bytes, operator: str, now: datetime
) -> str:
    """The sealed, URL-safe ticket that the saved page's button posts back."""
    body = {
        "receipt": receipt,
        "call": call.hex(),
        "operator": operator,
        "until": int((now + TICKET_LIFETIME).timestamp()),
    }
    sealed = seal_draft(context.secret, json.dumps(body).encode("utf-8"))
    return base64.urlsafe_b64encode(sealed).decode("ascii")


def reveal_once(context: AppContext, ticket: str, *, operator: str) -> str | None:
    """The receipt, the first time its operator asks within the lifetime; else None."""
    try:
        body = json.loads(open_draft(context.secret, base64.urlsafe_b64decode(ticket)))
        receipt, call = str(body["receipt"]), bytes.fromhex(str(body["call"]))
        owner, until = str(body["operator"]), int(body["until"])
    except (binascii.Error, DraftError, ValueError, KeyError, TypeError):
        return None
    now = utcnow()
    if owner != operator or now.timestamp() > until:
        return None
    with transaction(context.sessions) as session:
        marked = session.execute(
            update(HotlineCall)
            .where(HotlineCall.call_id_hash == call, HotlineCall.receipt_shown_at.is_(None))
            .values(receipt_shown_at=now.replace(second=0, microsecond=0))
        )
        if int(getattr(marked, "rowcount", 0) or 0) != 1:
            return None
    return receipt
