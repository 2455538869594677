"""Twilio Voice webhooks for tests: a caller that follows the TwiML, signed as Twilio signs.

`Call.start()` posts the call's first webhook; `press(digits)` and
`hang_up_recording(...)` post to the action URL of the last answer, exactly
as Twilio would, with the signature computed by the real RequestValidator.
"""

from __future__ import annotations

import io
import itertools
import secrets
import wave
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx
from fastapi.testclient import TestClient

from testkit.outbox import TWILIO_SID
from testkit.sms import TOKEN, signature

PUBLIC = "https://intake.example.org"
PATH = "/channels/voice/twilio"
URL = PUBLIC + PATH
KE_VOICE = "+254700000009"  # en, sw (English said, Swahili played)
EN_VOICE = "+254700000008"  # en only
SO_VOICE = "+252610000009"  # so (played)
VOICE_NUMBERS = (
    f'\n[[numbers]]\nnumber = "{KE_VOICE}"\ncountry = "KE"\nlanguages = ["en", "sw"]\n'
    "voice = true\n"
    f'\n[[numbers]]\nnumber = "{EN_VOICE}"\ncountry = "KE"\nlanguages = ["en"]\nvoice = true\n'
    f'\n[[numbers]]\nnumber = "{SO_VOICE}"\ncountry = "SO"\nlanguages = ["so"]\nvoice = true\n'
)
_counter = itertools.count(1)


def new_call_sid() -> str:
    return "CA" + secrets.token_hex(16)


def new_recording_sid() -> str:
    return "RE" + secrets.token_hex(16)


def new_caller() -> str:
    return f"+2547{next(_counter) + 50_000_000:08d}"


def tiny_wav(seconds: float = 0.25) -> bytes:
    """A valid WAV file of silence (8 kHz, 16-bit mono, as Twilio records)."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(8000)
        audio.writeframes(b"\x00\x00" * int(8000 * seconds))
    return buffer.getvalue()


def call_params(call_sid: str, caller: str, called: str) -> dict[str, str]:
    """The fields Twilio posts on every Voice webhook, location fields included."""
    return {
        "AccountSid": TWILIO_SID,
        "ApiVersion": "2010-04-01",
        "CallSid": call_sid,
        "CallStatus": "in-progress",
        "Direction": "inbound",
        "Called": called,
        "CalledCity": "NAIROBI",
        "CalledCountry": "KE",
        "Caller": caller,
        "CallerCity": "KAKUMA",
        "CallerCountry": "KE",
        "CallerState": "Turkana",
        "CallerZip": "30501",
        "From": caller,
        "FromCity": "KAKUMA",
        "FromCountry": "KE",
        "FromState": "Turkana",
        "FromZip": "30501",
        "To": called,
        "ToCity": "NAIROBI",
        "ToCountry": "KE",
    }


@dataclass
class Answer:
    """One TwiML answer, read as a caller hears it."""

    response: httpx.Response
    root: ET.Element = field(init=False)

    def __post_init__(self) -> None:
        assert self.response.status_code == 200, self.response.text
        assert self.response.headers["content-type"].startswith("application/xml")
        self.root = ET.fromstring(self.response.text)  # noqa: S314 - our own server's answer
        assert self.root.tag == "Response"

    @property
    def said(self) -> str:
        return " ".join(element.text or "" for element in self.root.iter("Say"))

    @property
    def played(self) -> list[str]:
        return [element.text or "" for element in self.root.iter("Play")]

    @property
    def action(self) -> str | None:
        for tag in ("Gather", "Record"):
            element = self.root.find(tag)
            if element is not None:
                return element.get("action")
        return None

    @property
    def records(self) -> bool:
        return self.root.find("Record") is not None

    @property
    def hangs_up(self) -> bool:
        return self.root.find("Hangup") is not None


@dataclass
class Call:
    client: TestClient
    to: str = KE_VOICE
    caller: str = field(default_factory=new_caller)
    call_sid: str = field(default_factory=new_call_sid)
    token: str = TOKEN
    last: Answer | None = None

    def post(self, url: str, extra: Mapping[str, str] | None = None) -> httpx.Response:
        params = {**call_params(self.call_sid, self.caller, self.to), **(extra or {})}
        headers = {"X-Twilio-Signature": signature(params, url=url, token=self.token)}
        parts = urlsplit(url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        return self.client.post(target, data=params, headers=headers)

    def _follow(self, url: str, extra: Mapping[str, str]) -> Answer:
        self.last = Answer(self.post(url, extra))
        return self.last

    def start(self) -> Answer:
        return self._follow(URL, {})

    def press(self, digits: str) -> Answer:
        """Keys typed at the last Gather (an empty string: the caller said nothing)."""
        assert self.last is not None
        assert self.last.action is not None
        return self._follow(self.last.action, {"Digits": digits})

    def record(self, recording_sid: str, *, duration: int = 12) -> Answer:
        """The Record ended with `#`: Twilio posts the recording to the action URL."""
        assert self.last is not None
        assert self.last.records
        assert self.last.action is not None
        extra = {
            "Digits": "#",
            "RecordingSid": recording_sid,
            "RecordingUrl": f"https://api.twilio.com/2010-04-01/Accounts/{TWILIO_SID}"
            f"/Recordings/{recording_sid}",
            "RecordingDuration": str(duration),
        }
        return self._follow(self.last.action, extra)


def spoken_receipt(answer: Answer) -> str:
    """The 16 digits read out (English digit words), from the first reading."""
    words = {
        "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4",
        "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
    }  # fmt: skip
    digits = []
    for element in answer.root.iter("Say"):
        for word in (element.text or "").replace(",", " ").replace(".", " ").split():
            if word in words:
                digits.append(words[word])
    return "".join(digits)
