"""How a language is spoken on a call: Twilio's text-to-speech, or recorded files.

`TWILIO_VOICES` lists the languages of ours that Twilio's `<Say>` can speak,
with the `language` and `voice` attributes used (Amazon Polly and Google
voices as listed in Twilio's text-to-speech documentation, "Available voices
and languages"; docs/voice.md keeps the same table). A language is *said*
only when Twilio has a voice for it and our `voice` catalog translates it;
otherwise every prompt is *played* from
`INTAKE_VOICE_PROMPTS_DIR/<lang>/<prompt>.mp3`, which the service serves
under `/channels/voice/prompts/<lang>/<prompt>.mp3` for Twilio to fetch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from channels.voice.prompts import Prompt, has_catalog
from routing.checks import where
from routing.table import RoutingTable


@dataclass(frozen=True)
class TwilioVoice:
    language: str  # Twilio's `language` attribute of <Say>
    voice: str  # Twilio's `voice` attribute


# Which of our languages Twilio's <Say> speaks, and with which voice. Source: Twilio's
# "Text-to-Speech: available voices and languages" table
# (https://www.twilio.com/docs/voice/twiml/say/text-speech#available-voices-and-languages),
# which lists Amazon Polly and Google voices by `voice` and `language`; checked in
# December 2026 against copies of that table. Re-check it when adding a language
# or when Twilio retires a voice (a <Say> with a voice Twilio no longer has fails,
# and the caller hears nothing):
# - en-GB Polly.Amy, fr-FR Polly.Lea, es-ES Polly.Lucia, arb Polly.Zeina (Modern
#   Standard Arabic), pt-BR Polly.Camila: Polly standard voices.
# - uk-UA Google.uk-UA-Standard-A; bn-IN Google.bn-IN-Standard-C (Twilio lists
#   Bengali as Standard-C and -D only, not -A).
# - Swahili, Somali, Pashto, Dari (fa), Hausa and Burmese have no voice there, so
#   SPEC 17 plays recorded prompts for them. Amharic (Google.am-ET-Standard-A)
#   appears only in the newest copies of the table: it stays on recorded prompts
#   until Twilio's console lists it for the account, since a failed <Say> is silence.
TWILIO_VOICES: dict[str, TwilioVoice] = {
    "en": TwilioVoice("en-GB", "Polly.Amy"),
    "fr": TwilioVoice("fr-FR", "Polly.Lea"),
    "es": TwilioVoice("es-ES", "Polly.Lucia"),
    "ar": TwilioVoice("arb", "Polly.Zeina"),
    "pt": TwilioVoice("pt-BR", "Polly.Camila"),
    "uk": TwilioVoice("uk-UA", "Google.uk-UA-Standard-A"),
    "bn": TwilioVoice("bn-IN", "Google.bn-IN-Standard-C"),
}
PROMPT_FILE_SUFFIX = ".mp3"
PROMPTS_PATH = "/channels/voice/prompts"
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")


def prompt_file_name(prompt: Prompt) -> str:
    return f"{prompt.value}{PROMPT_FILE_SUFFIX}"


def twilio_voice(language: str) -> TwilioVoice | None:
    """Twilio's voice for `language` when we can say it (voice and translation), else None."""
    voice = TWILIO_VOICES.get(language)
    return voice if voice is not None and has_catalog(language) else None


def prompt_path(prompts_dir: Path | None, language: str, name: str) -> Path | None:
    """The recorded file for `<language>/<name>.mp3`, path-safe; None when not there.

    Only a known language tag and a known prompt name are ever joined to the
    folder, so no request can reach outside it.
    """
    if prompts_dir is None or not _LANGUAGE.match(language):
        return None
    stem = name.removesuffix(PROMPT_FILE_SUFFIX)
    if stem == name or stem not in Prompt._value2member_map_:
        return None
    path = prompts_dir / language / prompt_file_name(Prompt(stem))
    return path if path.is_file() else None


def missing_recordings(prompts_dir: Path | None, language: str) -> list[Prompt]:
    """The prompts of `language` without a recorded file (all of them without a folder)."""
    return [
        prompt
        for prompt in Prompt
        if prompt_path(prompts_dir, language, prompt_file_name(prompt)) is None
    ]


def can_speak(prompts_dir: Path | None, language: str) -> bool:
    """Twilio says it, or every prompt is recorded."""
    return twilio_voice(language) is not None or not missing_recordings(prompts_dir, language)


def voice_language_problems(table: RoutingTable, prompts_dir: Path | None) -> list[str]:
    """One line per (voice number, language) that Twilio cannot say and no file plays."""
    problems = []
    for position, number in enumerate(table.numbers):
        if not number.voice:
            continue
        for language in dict.fromkeys(number.languages):
            if not can_speak(prompts_dir, language):
                problems.append(
                    f"{where('numbers', position)}: voice language {language!r} has no Twilio "
                    f"voice and no recorded prompts in INTAKE_VOICE_PROMPTS_DIR/{language}/ "
                    f"(`intake voice prompts --lang {language}` lists them)"
                )
    return problems
