"""Twilio's messaging webhook: `POST /channels/sms/twilio` (SPEC sections 4, 7 and 9).

The signature check is the one every Twilio webhook shares
(`channels/twilio_webhook.py`); the form's field names and the TwiML reply
are here. A request without a valid signature is refused before anything is
read into the database or a log. Of Twilio's fields only MessageSid, From, To and Body are used; the
location fields (FromCity, FromCountry, ToZip, ...) are never read, and From
goes nowhere in clear. WhatsApp (`whatsapp:+...`) arrives the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.datastructures import FormData
from twilio.twiml.messaging_response import MessagingResponse

from channels.sms.segments import fit
from channels.sms.service import Inbound, handle
from channels.twilio_webhook import TWIML, signed_form
from intake.errors import InvalidInput, problem_doc
from intake.http.deps import Context

PATH = "/channels/sms/twilio"
MAX_SID_LENGTH = 64

router = APIRouter(tags=["sms"])


async def signed_sms_form(request: Request) -> FormData:
    """The webhook's form, only when Twilio signed it (404 when SMS is not configured)."""
    return await signed_form(request, PATH, not_configured="SMS is not configured on this server.")


TwilioForm = Annotated[FormData, Depends(signed_sms_form)]


@router.post(
    PATH,
    response_class=Response,
    summary="Twilio messaging webhook (form-encoded, signed) answered with TwiML",
    responses={
        200: {"content": {TWIML: {}}, "description": "TwiML with the replies"},
        403: problem_doc("Missing or wrong signature"),
        404: problem_doc("SMS is not configured"),
    },
)
def twilio_webhook(form: TwilioForm, context: Context) -> Response:
    replies = handle(context, inbound_from(form))
    return Response(twiml(replies), media_type=TWIML)


def inbound_from(form: FormData) -> Inbound:
    sid = _field(form, "MessageSid") or _field(form, "SmsSid")
    sender, receiver = _field(form, "From"), _field(form, "To")
    if not sid or len(sid) > MAX_SID_LENGTH or not sender or not receiver:
        raise InvalidInput("The webhook needs MessageSid, From and To.")
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
