"""Fixed vocabularies of routing: report categories and country codes (SPEC 4, 9)."""

from __future__ import annotations

from typing import Literal, get_args

from babel import Locale

Category = Literal[
    "sexual_exploitation",
    "sexual_abuse",
    "sexual_harassment",
    "abuse_of_authority",
    "discrimination",
    "fraud_corruption",
    "programme_feedback",
    "other",
]
CATEGORIES: tuple[Category, ...] = get_args(Category)

# Sexual exploitation and abuse proper: the categories with the 24-hour
# referral standard, which every country with focal points should route.
SEA_CATEGORIES: tuple[Category, ...] = ("sexual_exploitation", "sexual_abuse")

# CLDR (through Babel) is the one source of truth for territory codes. Its
# list also holds codes that ISO 3166-1 does not assign: exceptional
# reservations (AC CP CQ DG EA EU EZ IC TA UN), CLDR's own macro-regions and
# pseudo-locales (QO XA XB ZZ) and the user-assigned XK (Kosovo). What
# remains is exactly the 249 officially assigned alpha-2 codes.
_NOT_ISO_ASSIGNED = frozenset(
    {"AC", "CP", "CQ", "DG", "EA", "EU", "EZ", "IC", "TA", "UN", "QO", "XA", "XB", "XK", "ZZ"}
)

COUNTRY_CODES: frozenset[str] = frozenset(
    code
    for code in map(str, Locale("en").territories)
    if len(code) == 2 and code.isascii() and code.isalpha() and code not in _NOT_ISO_ASSIGNED
)


def is_country_code(code: str) -> bool:
    """True for an assigned ISO 3166-1 alpha-2 code in upper case (``KE``, not ``ke``)."""
    return code in COUNTRY_CODES
