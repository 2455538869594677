"""What every Twilio webhook shares (SMS and voice): the signature check, TwiML's type.

A request without a valid `X-Twilio-Signature` over the URL Twilio signed
(rebuilt from INTAKE_PUBLIC_URL, never from the Host header, so it works
behind a proxy) is refused before anything is read into the database or a log.
"""

from __future__ import annotations

from fastapi import Request
from starlette.datastructures import FormData
from twilio.request_validator import RequestValidator

from intake.errors import Forbidden, NotFound
from intake.http.deps import get_context
from intake.settings import Settings

SIGNATURE_HEADER = "x-twilio-signature"
TWIML = "application/xml"
# Twilio sends about 20 fields, up to 40 with media; a body is at most 1,600 characters.
MAX_FIELDS = 100
MAX_FIELD_BYTES = 64 * 1024


def signed_url(settings: Settings, request: Request, path: str) -> str:
    """The URL Twilio signed: the public base URL, the path and the query as sent.

    Built from INTAKE_PUBLIC_URL only, never from the Host header (SPEC 15):
    without it no signature can be checked (`intake serve` refuses to start).
    """
    if settings.public_url is None:
        raise Forbidden("The request signature cannot be checked on this server.")
    query = request.url.query
    return f"{settings.public_url}{path}" + (f"?{query}" if query else "")


async def signed_form(request: Request, path: str, *, not_configured: str) -> FormData:
    """The webhook's form, only when Twilio signed it (404 when Twilio is not configured)."""
    settings = get_context(request).settings
    if settings.twilio_auth_token is None:
        raise NotFound(not_configured)
    signature = request.headers.get(SIGNATURE_HEADER)
    if not signature:
        raise Forbidden("The request is not signed.")
    form = await request.form(max_files=0, max_fields=MAX_FIELDS, max_part_size=MAX_FIELD_BYTES)
    validator = RequestValidator(settings.twilio_auth_token.get_secret_value())
    if not validator.validate(signed_url(settings, request, path), form, signature):
        raise Forbidden("The request signature is not valid.")
    return form
