"""SMS segment counting (GSM-7 with its extension table, UCS-2) and truncation."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from channels.sms.segments import (
    GSM7,
    UCS2,
    encoding_of,
    fit,
    fit_middle,
    fits,
    is_gsm7,
    segment_count,
)


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("", 1),
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("a" * 459, 3),
        ("a" * 460, 4),
        ("€" * 80, 1),  # extension characters take two septets
        ("€" * 81, 2),
        ("a" * 159 + "[", 2),
        ("é" * 160, 1),  # é, ñ, ü, à ... are in the basic table
        ("ê" * 70, 1),  # ê is not: the whole text goes as UCS-2
        ("ê" * 71, 2),
        ("ê" * 134, 2),
        ("ê" * 135, 3),
        ("ا" * 201, 3),
        ("ا" * 202, 4),
        ("😀" * 35, 1),  # outside the BMP: two UTF-16 units each
        ("😀" * 36, 2),
    ],
)
def test_segment_counts(text: str, segments: int) -> None:
    assert segment_count(text) == segments


def test_an_escape_pair_is_never_split_across_parts() -> None:
    # 306 septets would be two parts of 153, but the euro sign cannot straddle them.
    text = "a" * 152 + "€" + "a" * 152
    assert segment_count(text) == 3


def test_a_surrogate_pair_is_never_split_across_parts() -> None:
    text = "ê" * 66 + "😀" + "ê" * 66  # 134 units, yet the emoji opens the second part
    assert segment_count(text) == 3


def test_encodings() -> None:
    assert is_gsm7("Hello {name} [1] ~ € ^ | \\")
    assert encoding_of("Merci, reçu") is UCS2  # lower-case ç is not GSM-7
    assert encoding_of("Ç") is GSM7
    assert not is_gsm7("مرحبا")
    assert not is_gsm7("…")


def test_fit_keeps_a_text_that_fits() -> None:
    text = "a" * 459
    assert fit(text) == text


def test_fit_truncates_gsm_with_three_dots() -> None:
    shortened = fit("word " * 200)
    assert shortened.endswith("...")
    assert is_gsm7(shortened)
    assert segment_count(shortened) == 3


def test_fit_truncates_ucs2_with_an_ellipsis() -> None:
    shortened = fit("كلمة " * 100)
    assert shortened.endswith("…")
    assert segment_count(shortened) == 3
    assert len(shortened) <= 201


def test_fit_middle_keeps_head_and_tail_whole() -> None:
    result = fit_middle("Head: ", "x" * 1000, "\n1. Yes\n2. No")
    assert result.startswith("Head: x")
    assert result.endswith("...\n1. Yes\n2. No")
    assert fits(result)


def test_fit_never_separates_a_mark_from_its_letter() -> None:
    text = "e\u0301" * 300  # e + combining acute accent
    shortened = fit(text)
    assert shortened.endswith("…")
    assert not shortened[:-1].endswith("e")  # the last letter kept its accent


@given(st.text(max_size=1200))
def test_fit_always_fits_and_keeps_a_prefix(text: str) -> None:
    shortened = fit(text)
    assert fits(shortened)
    if shortened != text:
        body = shortened.removesuffix("...").removesuffix("…")
        assert text.startswith(body)
