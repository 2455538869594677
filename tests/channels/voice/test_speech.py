"""Which languages Twilio says and which are played (SPEC 17), as TwiML.

The table in channels/voice/speech.py follows Twilio's list of text-to-speech
voices; these tests pin what the channel does with it: a said language gets
`<Say language voice>` and nothing played, every other shipped language gets
only `<Play>` of its recorded prompts, and `routing check` refuses a voice
number whose language has neither.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from channels.voice.conversation import Hangup, Say, Script
from channels.voice.prompts import Prompt
from channels.voice.speech import TWILIO_VOICES, can_speak, twilio_voice
from channels.voice.twiml import Render, twiml
from intake import i18n

SAID = ("en", "fr", "es", "ar", "pt", "uk", "bn")
PLAYED = tuple(language for language in i18n.SHIPPED if language not in SAID)
RENDER = Render(public_url="https://intake.example.org", max_seconds=300)


def _verbs(language: str) -> list[ET.Element]:
    parts = (Say(Prompt.WELCOME, language), Say(Prompt.CHOOSE_CATEGORY, language))
    answer = twiml(Script(parts=parts, then=Hangup()), RENDER)
    return list(ET.fromstring(answer))  # noqa: S314 - our own TwiML


def test_the_played_languages_are_the_ones_twilio_has_no_voice_for() -> None:
    assert PLAYED == ("sw", "so", "ps", "fa", "ha", "my", "am")
    assert set(TWILIO_VOICES) == set(SAID)


@pytest.mark.parametrize("language", SAID)
def test_a_language_twilio_speaks_is_said_with_a_voice_of_that_language(language: str) -> None:
    voice = twilio_voice(language)
    assert voice is not None
    # Twilio's `language` is the voice's own locale (Modern Standard Arabic is `arb`).
    assert voice.language.split("-")[0] == ("arb" if language == "ar" else language)
    if voice.voice.startswith("Google."):
        assert voice.voice.startswith(f"Google.{voice.language}-Standard-")
    else:
        assert voice.voice.startswith("Polly.")
    verbs = _verbs(language)
    assert [verb.tag for verb in verbs] == ["Say", "Hangup"]  # one <Say> for adjacent prompts
    assert verbs[0].attrib == {"language": voice.language, "voice": voice.voice}
    assert can_speak(None, language)


@pytest.mark.parametrize("language", PLAYED)
def test_a_language_without_a_twilio_voice_plays_its_recorded_prompts(language: str) -> None:
    assert twilio_voice(language) is None
    verbs = _verbs(language)
    assert [verb.tag for verb in verbs] == ["Play", "Play", "Hangup"]
    assert [verb.text for verb in verbs[:2]] == [
        f"https://intake.example.org/channels/voice/prompts/{language}/welcome.mp3",
        f"https://intake.example.org/channels/voice/prompts/{language}/choose_category.mp3",
    ]


@pytest.mark.parametrize("language", PLAYED)
def test_without_every_recording_a_played_language_cannot_be_spoken(
    language: str, tmp_path: Path
) -> None:
    assert not can_speak(None, language)
    folder = tmp_path / language
    folder.mkdir()
    prompts = list(Prompt)
    for prompt in prompts[:-1]:
        (folder / f"{prompt.value}.mp3").write_bytes(b"ID3")
    assert not can_speak(tmp_path, language)  # one prompt still missing
    (folder / f"{prompts[-1].value}.mp3").write_bytes(b"ID3")
    assert can_speak(tmp_path, language)
