"""The entries of a routing table (SPEC 6) as frozen, validated models.

Each model checks only itself; what needs the whole table (ids that must
exist, duplicates, clashes, the catch-all) lives in ``routing.checks``.
Validators raise ``PydanticCustomError`` so that every message is ours, reads
as a sentence and never carries pydantic's echo of the input.
"""

from __future__ import annotations

import base64
import binascii
import re
from functools import cached_property
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, StrictBool, StrictInt
from pydantic_core import PydanticCustomError

from crypto.keys import is_full_order_public_key
from routing.constants import CATEGORIES, is_country_code

ANY: Literal["*"] = "*"
KEY_BYTES = 32
MAX_SHOWN = 40  # characters of a bad value quoted back in a problem
# A longer referral deadline is a typo; a huge one would overflow due_at.
MAX_DEADLINE_HOURS = 8760

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,99}")
_E164 = re.compile(r"\+[1-9][0-9]{1,14}")
_LANGUAGE = re.compile(r"[a-z]{2,3}")
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S+")


def shown(value: object) -> str:
    """A bad value quoted for a problem line: JSON-like quotes, cut short."""
    text = value if isinstance(value, str) else repr(value)
    if len(text) > MAX_SHOWN:
        text = text[: MAX_SHOWN - 1] + "…"
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _problem(message: str) -> PydanticCustomError:
    return PydanticCustomError("routing_table", message)


def _identifier(value: object) -> str:
    if not isinstance(value, str):
        raise _problem("must be a string")
    if not _ID.fullmatch(value):
        raise _problem(
            "must be 1 to 100 letters, digits, '.', '_', ':' or '-', starting with a letter "
            f"or digit, not {shown(value)}"
        )
    return value


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise _problem("must be a string")
    if not value.strip():
        raise _problem("must not be empty")
    return value


def _country(value: object) -> str:
    if not isinstance(value, str):
        raise _problem("must be a string")
    if not is_country_code(value):
        raise _problem(
            f"{shown(value)} is not an assigned ISO 3166-1 alpha-2 country code in upper case"
        )
    return value


def _rule_country(value: object) -> str:
    return ANY if value == ANY else _country(value)


def _public_key(value: object) -> bytes:
    """A raw 32-byte key, given as standard base64 (TOML) or as bytes (Python)."""
    if isinstance(value, str):
        try:
            value = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise _problem("is not standard base64") from None
    if not isinstance(value, bytes):
        raise _problem("must be a base64 string")
    if len(value) != KEY_BYTES:
        raise _problem(f"is {len(value)} bytes long; a public key is exactly {KEY_BYTES} bytes")
    if not is_full_order_public_key(value):
        raise _problem("is not an X25519 public key of full order (a small-order or invalid point)")
    return value


def _e164(value: object) -> str:
    # The number is never quoted back: problem lines may end up in logs.
    if not isinstance(value, str):
        raise _problem("must be a string")
    if not _E164.fullmatch(value):
        raise _problem("must be an E.164 number: '+' then up to 15 digits")
    return value


def _language(value: object) -> str:
    if not isinstance(value, str) or not _LANGUAGE.fullmatch(value):
        raise _problem(f'{shown(value)} is not a BCP 47 primary language tag such as "sw"')
    return value


def _uri(value: object) -> str:
    if not isinstance(value, str) or not _URI.fullmatch(value):
        raise _problem(f'{shown(value)} is not a URI such as "mailto:psea@example.org"')
    return value


def _category(value: object) -> Literal["*"] | tuple[str, ...]:
    if value == ANY:
        return ANY
    if not isinstance(value, list | tuple):
        raise _problem('must be "*" or a list of categories')
    if not value:
        raise _problem('must not be an empty list (use "*" for every category)')
    for item in value:
        if item not in CATEGORIES:
            raise _problem(f"{shown(item)} is not a category; known: {', '.join(CATEGORIES)}")
    return tuple(dict.fromkeys(value))  # repeats are harmless: drop them, keep order


def _affiliation(value: object) -> str:
    if not isinstance(value, str):
        raise _problem("must be a string")
    if not value or value != value.strip():
        raise _problem(f'must be "*", "unknown" or an agency code, not {shown(value)}')
    return value


def _child(value: object) -> bool | Literal["*"]:
    if value == ANY:
        return ANY
    if not isinstance(value, bool):
        raise _problem('must be true, false or "*"')
    return value


Identifier = Annotated[str, PlainValidator(_identifier)]
Text = Annotated[str, PlainValidator(_text)]
CountryCode = Annotated[str, PlainValidator(_country)]
PublicKey = Annotated[bytes, PlainValidator(_public_key)]


class _Entry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)


class Escrow(_Entry):
    """Keys that every case is also sealed to, for recovery (optional)."""

    public_keys: tuple[PublicKey, ...]


class Audit(_Entry):
    """Where the worker sends the audit trail's head daily (content-free, optional)."""

    notify: tuple[Annotated[str, PlainValidator(_uri)], ...] = ()


# A longer period than a century is a typo (days are whole days, SPEC 12).
MAX_RETENTION_DAYS = 36_525


def _closed_days(value: object) -> dict[str, int]:
    """`{"*" = 1825, "programme_feedback" = 365}`: whole days kept after `closed`."""
    if not isinstance(value, dict):
        raise _problem('must be a table such as {"*" = 1825, "programme_feedback" = 365}')
    days: dict[str, int] = {}
    for key, count in value.items():
        if key != ANY and key not in CATEGORIES:
            raise _problem(f'{shown(key)} is not a category; known: "*", {", ".join(CATEGORIES)}')
        if isinstance(count, bool) or not isinstance(count, int):
            raise _problem(f"{shown(key)} must be a whole number of days, 0 or more")
        if not 0 <= count <= MAX_RETENTION_DAYS:
            raise _problem(
                f"{shown(key)} must be a whole number of days from 0 to {MAX_RETENTION_DAYS}"
            )
        days[key] = count
    return days


class Retention(_Entry):
    """How long closed cases keep their content (SPEC 12); without it, forever."""

    closed_days: Annotated[dict[str, int], PlainValidator(_closed_days)]

    def days_for(self, category: str) -> int | None:
        """Days a closed case of `category` keeps its content; None: kept forever."""
        return self.closed_days.get(category, self.closed_days.get(ANY))


class FocalPoint(_Entry):
    """An agency's PSEA focal point: who may read the cases routed to it."""

    id: Identifier
    name: Text
    agency: Text
    country: CountryCode
    public_keys: Annotated[tuple[PublicKey, ...], Field(min_length=1)]
    notify: tuple[Annotated[str, PlainValidator(_uri)], ...] = ()


class Number(_Entry):
    """An inbound SMS, voice or hotline number and the languages its menus offer."""

    # Kept out of reprs, like every phone number, although these are public.
    number: Annotated[str, PlainValidator(_e164), Field(repr=False)]
    country: CountryCode
    languages: tuple[Annotated[str, PlainValidator(_language)], ...]
    # Also answers calls (SPEC 17): Twilio Voice webhooks for this number are taken.
    voice: StrictBool = False


class Rule(_Entry):
    """One routing rule; ``"*"`` in a field matches every value."""

    id: Identifier
    country: Annotated[str, PlainValidator(_rule_country)]
    category: Annotated[Literal["*"] | tuple[str, ...], PlainValidator(_category)]
    affiliation: Annotated[str, PlainValidator(_affiliation)]
    child: Annotated[bool | Literal["*"], PlainValidator(_child)]
    to: Annotated[tuple[Identifier, ...], Field(min_length=1)]
    cc: tuple[Identifier, ...] = ()
    deadline_hours: Annotated[StrictInt, Field(gt=0, le=MAX_DEADLINE_HOURS)]

    @cached_property
    def weight(self) -> int:
        """How specific the rule is: the number of its four fields that are not ``"*"``."""
        return sum(
            value != ANY for value in (self.country, self.category, self.affiliation, self.child)
        )

    @cached_property
    def recipients(self) -> tuple[str, ...]:
        """``to`` then ``cc``, each focal point once, in order."""
        return tuple(dict.fromkeys(self.to + self.cc))

    def covers_every_category(self) -> bool:
        return self.category == ANY or set(self.category) == set(CATEGORIES)

    def matches_everything_in(self, country: str) -> bool:
        """True when every report from ``country`` matches (``"*"``: from anywhere)."""
        return (
            self.country == country
            and self.affiliation == ANY
            and self.child == ANY
            and self.covers_every_category()
        )
