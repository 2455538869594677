"""The shared `Schema` base and `ReportIn`, the report every channel produces.

Error types are stable codes (`narrative_required`, `country_unknown`, ...);
channels turn them into the reporter's language with `intake.report_errors`.
Messages here are fixed texts and never quote the submitted value.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from intake.vocab import Category, ReporterType
from routing.constants import is_country_code

NARRATIVE_MAX = 20_000
SHORT_TEXT_MAX = 500
REPLY_MAX = 5_000  # a reporter's reply (SPEC 16)
LOCATION_MAX = 2_000
# Reporters ahead of UTC (up to UTC+14) may already live on "tomorrow".
_LATEST_OFFSET = timedelta(hours=14)


def _texts(value: Any) -> Iterator[str]:
    """Every string in a parsed JSON value, keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _texts(key)
            yield from _texts(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _texts(item)


# JSON may carry lone surrogates (`"\ud800"`); such text cannot be encoded as UTF-8
# and so could never be sealed: refuse it here as bad input, not a 500 later.
_SURROGATE = re.compile("[\ud800-\udfff]")


class Schema(BaseModel):
    """Every API schema: unknown fields are errors, NUL and lone surrogates are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        if any("\x00" in text for text in _texts(data)):
            raise PydanticCustomError("nul_character", "Text must not contain NUL characters.")
        if any(_SURROGATE.search(text) for text in _texts(data)):
            raise PydanticCustomError("lone_surrogate", "Text must be valid Unicode.")
        return data


class Consent(Schema):
    contact_me: StrictBool = False
    share_with_investigators: StrictBool = False
    refer_to_services: StrictBool = False


# Sealed fields carry repr=False: a repr in a traceback or debugger never shows them.
class ReporterIn(Schema):
    name: str | None = Field(default=None, max_length=SHORT_TEXT_MAX, repr=False)
    contact: str | None = Field(default=None, max_length=SHORT_TEXT_MAX, repr=False)


class VictimIn(Schema):
    name: str | None = Field(default=None, max_length=SHORT_TEXT_MAX, repr=False)
    age: StrictInt | None = Field(default=None, ge=0, le=130, repr=False)
    sex: Literal["female", "male", "other"] | None = Field(default=None, repr=False)


_REPORTER_RULES = {
    "reporter_not_anonymous": "An anonymous report cannot include who is reporting.",
    "reporter_required": "A named report needs the reporter's name or contact.",
}


def reporter_rule(reporter_type: object, reporter: Mapping[str, object] | None) -> str | None:
    """The code of the reporter rule that `reporter_type` and `reporter` break, or None.

    A model validator runs only once every field is valid; forms call this on
    the raw fields as well, so that a name on an anonymous report is named in
    the same round as a future date (SPEC 14: every error at once).
    """
    if reporter_type == "anonymous" and reporter is not None:
        return "reporter_not_anonymous"
    if reporter_type == "named" and not (
        reporter and any(str(reporter.get(key) or "").strip() for key in ("name", "contact"))
    ):
        return "reporter_required"
    return None


class ClearFieldsIn(Schema):
    """The unsealed fields of a report (SPEC 4): what routing, deadlines and figures need.

    `POST /api/v1/reports/prepare` takes exactly these; `ReportIn` adds the sealed fields.
    """

    reporter_type: ReporterType
    language: str | None = Field(default=None, max_length=35)
    country: str
    category: Category
    affiliation: str = Field(default="unknown", min_length=1, max_length=64)
    victim_is_child: StrictBool | None = None
    consent: Consent = Field(default_factory=Consent)

    @field_validator("language")
    @classmethod
    def _language(cls, value: str | None) -> str | None:
        if value is None:
            return None
        primary = value.split("-", 1)[0]
        if not (2 <= len(primary) <= 8 and primary.isascii() and primary.isalpha()):
            raise PydanticCustomError("language_invalid", "Language must be a BCP 47 language tag.")
        return primary.lower()

    @field_validator("country")
    @classmethod
    def _country(cls, value: str) -> str:
        if not is_country_code(value):
            raise PydanticCustomError(
                "country_unknown", "Country must be an ISO 3166-1 alpha-2 code in upper case."
            )
        return value

    @field_validator("affiliation")
    @classmethod
    def _affiliation(cls, value: str) -> str:
        if not all(ch.isascii() and (ch.isalnum() or ch in "-_.") for ch in value):
            raise PydanticCustomError(
                "affiliation_invalid", "Affiliation must be an agency code or 'unknown'."
            )
        return value

    def clear_fields(self) -> dict[str, object]:
        """The clear fields as plain JSON values, in a fixed order (a prepared token binds them)."""
        return self.model_dump(mode="json", include=set(ClearFieldsIn.model_fields))


class ReportIn(ClearFieldsIn):
    narrative: str = Field(repr=False)
    incident_date: str | None = Field(default=None, repr=False)
    location: str | None = Field(default=None, max_length=LOCATION_MAX, repr=False)
    reporter: ReporterIn | None = Field(default=None, repr=False)
    victim: VictimIn | None = Field(default=None, repr=False)

    @field_validator("narrative")
    @classmethod
    def _narrative(cls, value: str) -> str:
        if not value.strip():
            raise PydanticCustomError("narrative_required", "Please describe what happened.")
        if len(value) > NARRATIVE_MAX:
            raise PydanticCustomError(
                "narrative_too_long", "The account is longer than 20,000 characters."
            )
        return value  # kept exactly as received (SPEC section 9)

    @field_validator("incident_date")
    @classmethod
    def _incident_date(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            parsed = date.fromisoformat(value) if len(value) == 10 else None
        except ValueError:
            parsed = None
        if parsed is None:
            raise PydanticCustomError("date_invalid", "The date must be written YYYY-MM-DD.")
        if parsed > (datetime.now(UTC) + _LATEST_OFFSET).date():
            raise PydanticCustomError("date_in_future", "The date cannot be in the future.")
        return value

    @model_validator(mode="after")
    def _reporter_rules(self) -> ReportIn:
        reporter = self.reporter.model_dump() if self.reporter is not None else None
        code = reporter_rule(self.reporter_type, reporter)
        if code is not None:
            raise PydanticCustomError(code, _REPORTER_RULES[code])
        return self

    def sealed_content(self) -> dict[str, object]:
        """The fields that are sealed (SPEC section 4), exactly as received."""
        return {
            "narrative": self.narrative,
            "incident_date": self.incident_date,
            "location": self.location,
            "reporter": self.reporter.model_dump() if self.reporter else None,
            "victim": self.victim.model_dump() if self.victim else None,
        }


PREPARED_MAX = 4_096  # a prepared token is well under 1,000 characters


class SealedReportIn(ClearFieldsIn):
    """SPEC 11: the clear fields, the prepared token and the envelope the browser sealed.

    The envelope is checked by `intake.reports.prepared`, not here: its
    problems get their own codes (`envelope_invalid`, `envelope_recipients`).
    """

    prepared: str = Field(min_length=1, max_length=PREPARED_MAX, repr=False)
    envelope: dict[str, Any] = Field(repr=False)


class PreparedKey(Schema):
    kid: str
    public_key: str


class PreparedOut(Schema):
    case_ref: str
    keys: list[PreparedKey]
    prepared: str


class ReportOut(Schema):
    case_ref: str
    receipt: str
    status: Literal["routed"]
