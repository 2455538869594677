"""A `Script` as TwiML (`twilio.twiml.voice_response.VoiceResponse`).

Each prompt is said (`<Say language voice>`) when Twilio has a voice for its
language, otherwise played (`<Play>`) from the service's prompt route.
Adjacent said prompts of one language become one `<Say>`. Menus are
`<Gather input="dtmf" actionOnEmptyResult>`, so a silent caller still reaches
the action URL (and hears the menu again); the account is a `<Record>`
after a tone, followed by a `<Redirect>` for the case where Twilio recorded
nothing (it then skips the action).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby

from twilio.twiml.voice_response import VoiceResponse

from channels.voice.conversation import Gather, Hangup, Part, Pause, Record, Say, Script
from channels.voice.prompts import text
from channels.voice.speech import PROMPTS_PATH, prompt_file_name, twilio_voice

WEBHOOK_PATH = "/channels/voice/twilio"
GATHER_TIMEOUT_S = 8
RECORD_SILENCE_S = 10
TURN = "t"


@dataclass(frozen=True)
class Render:
    public_url: str  # INTAKE_PUBLIC_URL: Twilio fetches actions and prompt files there
    max_seconds: int


def action_url(public_url: str, turn: int) -> str:
    return f"{public_url}{WEBHOOK_PATH}?{TURN}={turn}"


def twiml(script: Script | None, render: Render) -> str:
    """The TwiML of `script`; None gives an empty `<Response/>`."""
    response = VoiceResponse()
    if script is None:
        return str(response.to_xml())
    action = action_url(render.public_url, script.turn)
    then = script.then
    if isinstance(then, Gather):
        gather = response.gather(
            input="dtmf",
            num_digits=then.num_digits,
            finish_on_key="#",
            action=action,
            method="POST",
            timeout=GATHER_TIMEOUT_S,
            action_on_empty_result=True,
        )
        _speak(gather, script.parts, render)
    else:
        _speak(response, script.parts, render)
    if isinstance(then, Record):
        response.record(
            action=action,
            method="POST",
            max_length=render.max_seconds,
            play_beep=True,
            finish_on_key="#",
            timeout=RECORD_SILENCE_S,
            trim="trim-silence",
        )
        response.redirect(action, method="POST")
    elif isinstance(then, Hangup):
        response.hangup()
    return str(response.to_xml())


def _speak(verb: VoiceResponse, parts: tuple[Part, ...], render: Render) -> None:
    for said_by, run in groupby(parts, key=_voice_key):
        items = list(run)
        if said_by is None:
            for item in items:
                _play_or_pause(verb, item, render)
            continue
        language, voice = said_by
        words = " ".join(
            text(item.prompt, item.language) for item in items if isinstance(item, Say)
        )
        verb.say(words, language=language, voice=voice)


def _voice_key(part: Part) -> tuple[str, str] | None:
    if isinstance(part, Pause):
        return None
    voice = twilio_voice(part.language)
    return None if voice is None else (voice.language, voice.voice)


def _play_or_pause(verb: VoiceResponse, part: Part, render: Render) -> None:
    if isinstance(part, Pause):
        verb.pause(length=part.seconds)
        return
    name = prompt_file_name(part.prompt)
    verb.play(f"{render.public_url}{PROMPTS_PATH}/{part.language}/{name}")
