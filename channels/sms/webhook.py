"""Twilio's messaging webhook: `POST /channels/sms/twilio` (SPEC sections 4, 7 and 9).

Everything Twilio-specific stays here: the `X-Twilio-Signature` check over
the URL Twilio signed (rebuilt from INTAKE_PUBLIC_URL, so it works behind a
proxy), the form's field names, and the TwiML reply. A request without a
valid signature is refused before anything is read into the database or a
log. Of Twilio's fields only MessageSid, From, To and Body are used; the
location fields (FromCity, FromCountry, ToZip, ...) are never read, and From
goes nowhere in clear. WhatsApp (`whatsapp:+...`) arrives the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.datastructures import FormData
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from channels.sms.segments import fit
from channels.sms.service import Inbound, handle
from intake.errors import Forbidden, InvalidInput, NotFound, problem_doc
from intake.http.deps import Context, get_context
from intake.settings import Settings

PATH = "/channels/sms/twilio"
SIGNATURE_HEADER = "x-twilio-signature"
TWIML = "application/xml"
# Twilio sends about 20 fields, up to 40 with media; a body is at most 1,600 characters.
MAX_FIELDS = 100
MAX_FIELD_BYTES = 64 * 1024
MAX_SID_LENGTH = 64

router = APIRouter(tags=["sms"])


def signed_url(settings: Settings, request: Request) -> str:
    """The URL Twilio signed: the public base URL, this path and the query as sent.

    Built from INTAKE_PUBLIC_URL only, never from the Host header (SPEC 15):
    without it no signature can be checked (`intake serve` refuses to start).
    """
    if settings.public_url is None:
        raise Forbidden("The request signature cannot be checked on this server.")
    query = request.url.query
    return f"{settings.public_url}{PATH}" + (f"?{query}" if query else "")


async def signed_form(request: Request) -> FormData:
    """The webhook's form, only when Twilio signed it (404 when SMS is not configured)."""
    settings = get_context(request).settings
    if settings.twilio_auth_token is None:
        raise NotFound("SMS is not configured on this server.")
    signature = request.headers.get(SIGNATURE_HEADER)
    if not signature:
        raise Forbidden("The request is not signed.")
    form = await request.form(max_files=0, max_fields=MAX_FIELDS, max_part_size=MAX_FIELD_BYTES)
    validator = RequestValidator(settings.twilio_auth_token.get_secret_value())
    if not validator.validate(signed_url(settings, request), form, signature):
        raise Forbidden("The request signature is not valid.")
    return form


TwilioForm = Annotated[FormData, Depends(signed_form)]


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
