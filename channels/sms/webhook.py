"""Twilio's messaging webhook: `POST /channels/sms/twilio` (SPEC sections 4, 7 and 9).

The signature check is the one every Twilio webhook shares
(`channels/twilio_webhook.py`); the form's field names, the SMS-specific
checks and the TwiML reply are here. A request without a valid signature is
refused before anything is read into the database or a log. Of Twilio's
fields only MessageSid, AccountSid, From, To and Body are used; the location
fields (FromCity, FromCountry, ToZip, ...) are never read,
and From goes nowhere in clear. WhatsApp (`whatsapp:+...`) arrives the same way.

Twilio's signature covers the parameters as one string of names and values
run together, so a signed request can be re-split into other parameters that
sign the same (`MessageSid=SM…` + `NumMedia=0` becomes one longer MessageSid,
a new id that would slip past exactly-once; `Body=aBodyb` becomes two Bodies).
SPEC 15 closes that: MessageSid is exactly `SM`/`MM` and 32 lower-case hex
digits, AccountSid is ours when INTAKE_TWILIO_ACCOUNT_SID is set, and no
parameter may repeat; anything else is 400 with nothing stored.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.datastructures import FormData
from twilio.twiml.messaging_response import MessagingResponse

from channels.sms.segments import fit
from channels.sms.service import Inbound, handle
from channels.twilio_webhook import TWIML, signed_form
from intake.errors import BadRequest, InvalidInput, problem_doc
from intake.http.deps import Context, get_context

PATH = "/channels/sms/twilio"
MESSAGE_SID = re.compile(r"(SM|MM)[0-9a-f]{32}")

router = APIRouter(tags=["sms"])


async def signed_sms_form(request: Request) -> FormData:
    """The webhook's form, only when Twilio signed it and it cannot have been re-split."""
    form = await signed_form(request, PATH, not_configured="SMS is not configured on this server.")
    refuse_resplit(form, account_sid=get_context(request).settings.twilio_account_sid)
    return form


def refuse_resplit(form: FormData, *, account_sid: str | None) -> None:
    """400 for a signed form whose parameters could have been re-split (see above)."""
    names = Counter(name for name, _value in form.multi_items())
    if any(count > 1 for count in names.values()):
        raise BadRequest("A parameter of the webhook is repeated.")
    if not MESSAGE_SID.fullmatch(_field(form, "MessageSid")):
        raise BadRequest("MessageSid is not a Twilio message id.")
    if account_sid is not None and _field(form, "AccountSid") != account_sid:
        raise BadRequest("AccountSid is not this service's Twilio account.")


TwilioForm = Annotated[FormData, Depends(signed_sms_form)]


@router.post(
    PATH,
    response_class=Response,
    summary="Twilio messaging webhook (form-encoded, signed) answered with TwiML",
    responses={
        200: {"content": {TWIML: {}}, "description": "TwiML with the replies"},
        400: problem_doc("A repeated parameter, a malformed MessageSid or another AccountSid"),
        403: problem_doc("Missing or wrong signature"),
        404: problem_doc("SMS is not configured"),
    },
)
def twilio_webhook(form: TwilioForm, context: Context) -> Response:
    replies = handle(context, inbound_from(form))
    return Response(twiml(replies), media_type=TWIML)


def inbound_from(form: FormData) -> Inbound:
    sid = _field(form, "MessageSid")  # checked by `refuse_resplit`
    sender, receiver = _field(form, "From"), _field(form, "To")
    if not sender or not receiver:
        raise InvalidInput("The webhook needs From and To.")
    return Inbound(message_sid=sid, sender=sender, receiver=receiver, text=_field(form, "Body"))


def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def twiml(replies: Iterable[str]) -> str:
    """`<Response><Message>..</Message>..</Response>`; each message fits 3 SMS segments."""
    response = MessagingResponse()
    for reply in replies:
        response.message(fit(_xml_safe(reply)))
    return str(response.to_xml())


def _xml_safe(text: str) -> str:
    """Characters XML 1.0 cannot carry (control characters) become U+FFFD."""
    return "".join(
        ch
        if ch in "\t\n\r"
        or (" " <= ch <= "\ud7ff")
        or ("\ue000" <= ch <= "\ufffd")
        or ch >= "\U00010000"
        else "\ufffd"
        for ch in text
    )
