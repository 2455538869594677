"""The SMS channel's outbox kinds: "sms_reply" (an answer to an SMS reporter) and
"twilio_redact" (deleting a processed message, body and all, at Twilio).

Both go through the real twilio `Client`. A reply's addresses and body are
sealed with the server's draft key and opened only here, just before the
call; neither ever reaches a log, a stored error or an exception message.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from typing import Any

from channels.twilio_client import call_twilio, make_client, twilio_configured
from crypto.secretbox import DraftError, open_draft
from crypto.server_secret import ServerSecret
from intake.settings import Settings
from intake.worker.delivery import DeliveryError, text_field

__all__ = ["REDACT_KIND", "SMS_REPLY_KIND", "TwilioKinds", "call_twilio", "twilio_configured"]

SMS_REPLY_KIND = "sms_reply"
REDACT_KIND = "twilio_redact"
_MESSAGE_SID = re.compile(r"^[A-Z]{2}[0-9a-fA-F]{32}$")


def _open_sealed(secret: ServerSecret, text: str) -> bytes:
    try:
        return open_draft(secret, base64.b64decode(text, validate=True))
    except (binascii.Error, ValueError, DraftError):
        raise DeliveryError("unsealable", permanent=True) from None


def _route(secret: ServerSecret, payload: Mapping[str, Any]) -> tuple[str, str]:
    try:
        route = json.loads(_open_sealed(secret, text_field(payload, "to_sealed")))
    except ValueError:
        raise DeliveryError("bad_payload", permanent=True) from None
    if not isinstance(route, dict):
        raise DeliveryError("bad_payload", permanent=True)
    to, sender = route.get("to"), route.get("from")
    if not (isinstance(to, str) and to and isinstance(sender, str) and sender):
        raise DeliveryError("bad_payload", permanent=True)
    return to, sender


class TwilioKinds:
    """Handlers sharing one lazily built Client (its HTTP session is reused)."""

    def __init__(self, settings: Settings, secret: ServerSecret) -> None:
        self._settings = settings
        self._secret = secret
        self._client: Any = None

    def _twilio(self) -> Any:
        if self._client is None:
            self._client = make_client(self._settings)
        return self._client

    def sms_reply(self, payload: Mapping[str, Any]) -> None:
        """Payload {to_sealed, body_sealed}: b64 of draft-sealed JSON route and UTF-8 body."""
        to, sender = _route(self._secret, payload)
        try:
            body = _open_sealed(self._secret, text_field(payload, "body_sealed")).decode("utf-8")
        except UnicodeDecodeError:
            raise DeliveryError("bad_payload", permanent=True) from None
        messages = self._twilio().messages
        call_twilio(lambda: messages.create(to=to, from_=sender, body=body))

    def redact(self, payload: Mapping[str, Any]) -> None:
        """Payload {message_sid_sealed} (b64 of the draft-sealed SID; {message_sid} from
        before SPEC 15 too): delete the message (and so its body) at Twilio; 404 = gone."""
        if not self._settings.twilio_delete_bodies:
            return  # turned off after the entry was queued: nothing to do
        if "message_sid_sealed" in payload:
            sealed = _open_sealed(self._secret, text_field(payload, "message_sid_sealed"))
            sid = sealed.decode("ascii", errors="replace")
        else:
            sid = text_field(payload, "message_sid")
        if not _MESSAGE_SID.match(sid):
            raise DeliveryError("bad_payload", permanent=True)
        message = self._twilio().messages(sid)
        call_twilio(message.delete, not_found_ok=True)
