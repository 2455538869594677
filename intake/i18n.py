"""Languages: negotiation and per-request translations (never installed globally).

Catalogs are the `.po` files under `locales/<ll>/LC_MESSAGES/<domain>.po`,
compiled in memory at start (no `.mo` files to forget to rebuild). Each
channel may keep its own domain (`messages` for the web pages, `sms`,
`hotline`); they are merged into one `Translations` per language.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from intake.paths import data_folder

SHIPPED = ("en", "fr", "es", "ar", "sw", "so", "pt", "uk", "ps", "fa", "ha", "bn", "my", "am")
RTL = frozenset({"ar", "ps", "fa"})
DEFAULT_LANGUAGE = "en"
# Where a language's own name differs from Babel's (CLDR's) name for it. `fa` is
# shipped as Dari, the Persian of Afghanistan, whose speakers call it دری, not فارسی.
_NATIVE_NAMES = {"fa": "دری"}


@dataclass(frozen=True)
class LanguageInfo:
    code: str
    native_name: str
    direction: str


def primary_tag(tag: str) -> str:
    """`fr-CA` -> `fr`; anything that is not letters gives an empty string."""
    primary = tag.strip().replace("_", "-").split("-", 1)[0].lower()
    return primary if primary.isascii() and primary.isalpha() and len(primary) <= 8 else ""


def negotiate_locale(
    requested: str | None, accept_language: str | None, default: str = DEFAULT_LANGUAGE
) -> str:
    """The one place that picks a display language.

    Order: an explicit `?lang=` (or form/JSON `language`) when shipped; else the
    highest-weighted shipped language of `Accept-Language`; else `default`.
    An unshipped request falls back rather than failing (SPEC section 9).
    """
    if requested and primary_tag(requested) in SHIPPED:
        return primary_tag(requested)
    for tag in _accepted(accept_language or ""):
        if tag in SHIPPED:
            return tag
    return default if default in SHIPPED else DEFAULT_LANGUAGE


def _accepted(header: str) -> list[str]:
    weighted: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                quality = 0.0
        primary = primary_tag(tag)
        if primary and quality > 0:
            weighted.append((-quality, index, primary))
    return [tag for _q, _i, tag in sorted(weighted)]


def direction(language: str) -> str:
    return "rtl" if language in RTL else "ltr"


def language_info(code: str) -> LanguageInfo:
    try:
        name = _NATIVE_NAMES.get(code) or Locale.parse(code).get_display_name(code) or code
    except (UnknownLocaleError, ValueError):
        name = code
    return LanguageInfo(
        code=code, native_name=name[:1].upper() + name[1:], direction=direction(code)
    )


def shipped_languages() -> list[LanguageInfo]:
    return [language_info(code) for code in SHIPPED]


def _domains(locales_dir: Path) -> list[str]:
    english = locales_dir / "en" / "LC_MESSAGES"
    return sorted(path.stem for path in english.glob("*.po")) if english.is_dir() else []


def _compile(po_path: Path, locale: str) -> Translations:
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(fp=buffer)


@cache
def translations_for(language: str) -> Translations:
    """Merged translations of every domain for one shipped language (cached)."""
    locales_dir = data_folder("locales")
    merged = Translations()
    for domain in _domains(locales_dir):
        po_path = locales_dir / language / "LC_MESSAGES" / f"{domain}.po"
        if po_path.is_file():
            merged.merge(_compile(po_path, language))
    return merged


def preload(languages: Iterable[str] = SHIPPED) -> None:
    for language in languages:
        translations_for(language)
