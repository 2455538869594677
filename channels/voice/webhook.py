"""Twilio's Voice webhook, `POST /channels/voice/twilio`, and the recorded prompts (SPEC 17).

Signed and refused like the SMS webhook (the same signature check over the
URL rebuilt from INTAKE_PUBLIC_URL: 403 without a valid signature, 404 when
Twilio is not configured), and held to SPEC 15's rules: `CallSid` is `CA`
and 32 lower-case hex digits, a `RecordingSid` is `RE` and 32, `AccountSid`
equals INTAKE_TWILIO_ACCOUNT_SID when that is set, and no parameter repeats;
otherwise 400 with nothing stored. Of Twilio's fields only CallSid, From (for
the keyed rate-limit source), To, Digits and RecordingSid are read: the
Caller*/From*/To* location fields never are. `RecordingUrl` is not used: the
worker fetches the recording by its SID from INTAKE_TWILIO_API_BASE, so no
webhook can point the server at another host.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, Response
from starlette.datastructures import FormData

from channels.twilio_webhook import TWIML, signed_form
from channels.voice.conversation import Keys
from channels.voice.outbound import CALL_SID, RECORDING_SID
from channels.voice.service import Inbound, handle
from channels.voice.speech import PROMPTS_PATH, prompt_path
from channels.voice.twiml import TURN, WEBHOOK_PATH
from intake.errors import BadRequest, NotFound, problem_doc
from intake.http.deps import Context, get_context

_DIGITS = re.compile(r"^[0-9*#]{0,32}$")
_MAX_TURN = 1000
router = APIRouter(tags=["voice"])


async def signed_voice_form(request: Request) -> FormData:
    return await signed_form(request, WEBHOOK_PATH, not_configured="Voice is not configured.")


VoiceForm = Annotated[FormData, Depends(signed_voice_form)]


@router.post(
    WEBHOOK_PATH,
    response_class=Response,
    summary="Twilio Voice webhook (form-encoded, signed) answered with TwiML",
    responses={
        200: {"content": {TWIML: {}}, "description": "TwiML: menus, recording, receipt"},
        400: problem_doc("Not a well-formed Twilio Voice request"),
        403: problem_doc("Missing or wrong signature"),
        404: problem_doc("Twilio is not configured"),
    },
)
def voice_webhook(request: Request, form: VoiceForm, context: Context) -> Response:
    inbound = inbound_from(
        form, request.query_params.get(TURN), context.settings.twilio_account_sid
    )
    return Response(handle(context, inbound), media_type=TWIML)


def inbound_from(form: FormData, turn_text: str | None, account_sid: str | None) -> Inbound:
    if len(form.keys()) != len(form.multi_items()):
        raise BadRequest("A parameter is repeated.")
    call_sid, caller, called = _field(form, "CallSid"), _field(form, "From"), _field(form, "To")
    if not CALL_SID.match(call_sid) or not caller or not called:
        raise BadRequest("The webhook needs a valid CallSid, From and To.")
    if account_sid is not None and _field(form, "AccountSid") != account_sid:
        raise BadRequest("The webhook is for another account.")
    digits = _field(form, "Digits")
    if digits == "hangup" or not _DIGITS.match(digits):
        digits = ""  # Twilio's "hangup" (Record ended by hanging up) is no key
    recording = _field(form, "RecordingSid") or None
    if recording is not None and not RECORDING_SID.match(recording):
        raise BadRequest("The RecordingSid is not valid.")
    return Inbound(
        call_sid=call_sid,
        caller=caller,
        called=called,
        turn=_turn(turn_text),
        keys=Keys(digits=digits, recording_sid=recording),
    )


def _turn(text: str | None) -> int:
    if text is None:
        return 0
    if not text.isdigit() or int(text) > _MAX_TURN:
        raise BadRequest("The turn is not valid.")
    return int(text)


def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


@router.get(
    PROMPTS_PATH + "/{language}/{name}",
    response_class=FileResponse,
    summary="A recorded voice prompt (audio/mpeg), for Twilio's <Play>",
    responses={404: problem_doc("No such prompt")},
)
def voice_prompt(language: str, name: str, request: Request) -> FileResponse:
    folder = get_context(request).settings.voice_prompts_dir
    path = prompt_path(folder, language, name)
    if path is None:
        raise NotFound("No such prompt.")
    return FileResponse(path, media_type="audio/mpeg")
