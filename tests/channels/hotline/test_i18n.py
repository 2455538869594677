"""The `hotline` gettext domain: complete in every shipped language and up to date."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

from intake.i18n import SHIPPED

ROOT = Path(__file__).resolve().parents[3]
LOCALES = ROOT / "locales"


def _catalog(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def _ids(catalog: Catalog) -> set[str]:
    return {str(message.id) for message in catalog if message.id}


@pytest.mark.parametrize("language", SHIPPED)
def test_every_message_is_translated(language: str) -> None:
    template = _catalog(LOCALES / "hotline.pot")
    catalog = _catalog(LOCALES / language / "LC_MESSAGES" / "hotline.po", language)
    assert _ids(catalog) == _ids(template)
    for message in catalog:
        if message.id:
            assert message.string, f"{language}: no translation for {message.id!r}"
            assert not message.fuzzy, f"{language}: fuzzy translation for {message.id!r}"


def test_the_template_matches_the_source(tmp_path: Path) -> None:
    """Re-extract (locales/babel-hotline.cfg) and compare: no string is left out."""
    out = tmp_path / "hotline.pot"
    CommandLineInterface().run(
        ["pybabel", "-q", "extract", "-F", str(LOCALES / "babel-hotline.cfg"), "-k", "N_",
         "-o", str(out), str(ROOT)]
    )  # fmt: skip
    assert _ids(_catalog(out)) == _ids(_catalog(LOCALES / "hotline.pot"))
