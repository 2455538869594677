"""What a figure request asks for: a period of days, and a country the account may see.

`from` and `to` are `YYYY-MM-DD`, both inclusive, by `received_at` (UTC); the
default is the last 90 days up to today. A coordinator sees its own country
only (another one is 403); an admin every country, or one it names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from intake.errors import Forbidden, InvalidInput
from intake.staff.service import Staff
from routing.constants import is_country_code

DEFAULT_DAYS = 90
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_BAD_DATE = "from and to must be dates written YYYY-MM-DD, from no later than to."
_BAD_COUNTRY = "country must be an ISO 3166-1 alpha-2 code in upper case."
_OTHER_COUNTRY = "A coordinator sees the figures of its own country only."
_BAD_YEAR = "year must be a year between 2000 and 9999."
ADMIN, COORDINATOR = "admin", "coordinator"
FIGURE_ROLES = (COORDINATOR, ADMIN)


@dataclass(frozen=True)
class Period:
    first: date
    last: date

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(), tzinfo=UTC)

    @property
    def end(self) -> datetime:
        """The first instant after the period (`last` is inclusive)."""
        return datetime.combine(self.last + timedelta(days=1), time(), tzinfo=UTC)


def parse_date(text: str | None) -> date | None:
    if text is None or text == "":
        return None
    if not _DATE.fullmatch(text):
        raise InvalidInput(_BAD_DATE)
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(_BAD_DATE) from None


def period_of(first: str | None, last: str | None, *, today: date) -> Period:
    """The period asked for; InvalidInput for a bad date or from after to."""
    last_day = parse_date(last) or today
    first_day = parse_date(first) or last_day - timedelta(days=DEFAULT_DAYS - 1)
    if first_day > last_day:
        raise InvalidInput(_BAD_DATE)
    return Period(first=first_day, last=last_day)


def parse_year(text: str | None) -> int | None:
    if text is None or text == "":
        return None
    if not re.fullmatch(r"[0-9]{4}", text) or int(text) < 2000:
        raise InvalidInput(_BAD_YEAR)
    return int(text)


def country_for(staff: Staff, asked: str | None) -> str | None:
    """The country the figures cover (None: every country, for an admin)."""
    asked = asked or None
    if asked is not None and not is_country_code(asked):
        raise InvalidInput(_BAD_COUNTRY)
    if staff.role == COORDINATOR:
        # A coordinator account always names its country; none would mean "all".
        if staff.country is None or (asked is not None and asked != staff.country):
            raise Forbidden(_OTHER_COUNTRY)
        return staff.country
    return asked
