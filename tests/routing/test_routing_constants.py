from __future__ import annotations

import pytest

from routing.constants import CATEGORIES, COUNTRY_CODES, SEA_CATEGORIES, is_country_code


def test_categories_are_the_specs_in_order() -> None:
    assert CATEGORIES == (
        "sexual_exploitation",
        "sexual_abuse",
        "sexual_harassment",
        "abuse_of_authority",
        "discrimination",
        "fraud_corruption",
        "programme_feedback",
        "other",
    )
    assert set(SEA_CATEGORIES) == {"sexual_exploitation", "sexual_abuse"}


@pytest.mark.parametrize("code", ["KE", "SO", "SD", "CD", "HT", "CH", "GB", "AQ", "SS", "PS"])
def test_assigned_codes_are_accepted(code: str) -> None:
    assert is_country_code(code)


@pytest.mark.parametrize(
    "code",
    [
        "ke",  # lower case
        "Ke",
        "KEN",  # alpha-3
        "",
        "*",
        "UK",  # exceptionally reserved, GB is assigned
        "EU",
        "UN",
        "XK",  # user-assigned (Kosovo)
        "ZZ",  # CLDR's unknown region
        "QO",
        "AC",
        "IC",
        "CQ",
        "001",  # CLDR world region
        "K1",
    ],
)
def test_other_codes_are_refused(code: str) -> None:
    assert not is_country_code(code)


def test_exactly_the_249_assigned_codes() -> None:
    # ISO 3166-1 has assigned 249 alpha-2 codes since South Sudan (2011).
    assert len(COUNTRY_CODES) == 249
    assert all(len(code) == 2 and code.isupper() for code in COUNTRY_CODES)
