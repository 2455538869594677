"""Every code the staff pages show (channel, status, category, reporter) has its word
in every shipped language: a new channel or status cannot reach a page as a bare code."""

from __future__ import annotations

from typing import get_args

import pytest

from intake import i18n
from intake.http.pages import _environment
from intake.vocab import CHANNELS, STATUSES, ReporterType
from routing.constants import CATEGORIES


@pytest.mark.parametrize("lang", i18n.SHIPPED)
def test_every_code_on_a_staff_page_has_a_translated_label(lang: str) -> None:
    translations = i18n.translations_for(lang)
    labels = (
        _environment()
        .get_template("staff/_labels.html")
        .make_module({"gettext": translations.gettext, "ngettext": translations.ngettext})
    )
    expected = {
        "channel_label": CHANNELS,
        "status_label": STATUSES,
        "category_label": CATEGORIES,
        "reporter_label": get_args(ReporterType),
    }
    for name, codes in expected.items():
        table = getattr(labels, name)
        assert set(table) == set(codes), name
        assert all(table[code].strip() and table[code] != code for code in codes), name
    if lang != "en":
        assert labels.channel_label["voice"] != "Voice call"
