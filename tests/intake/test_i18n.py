"""Catalogs: complete in every shipped language, placeholders intact, templates current.

Covers every gettext domain that has an English catalog under
locales/en/LC_MESSAGES (`messages`, `sms`, `hotline`, ...). Each domain's
template is `locales/<domain>.pot`, extracted with the `pybabel extract`
command written in the comments of its config (`locales/babel.cfg` for
`messages`, `locales/babel-<domain>.cfg` for the others).
"""

from __future__ import annotations

import gettext
import re
import shlex
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from babel import Locale
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po

from intake import i18n
from intake.paths import data_folder

LOCALES = data_folder("locales")
ROOT = LOCALES.parent
DOMAINS = sorted(path.stem for path in (LOCALES / "en" / "LC_MESSAGES").glob("*.po"))
NAMED = re.compile(r"%\((\w+)\)[sdifr]")
BRACED = re.compile(r"\{(\w*)[^{}]*\}")
POSITIONAL = re.compile(r"%[-+ #0]*\d*(?:\.\d+)?[sdifr]")


def _read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def _entries(catalog: Catalog) -> list[Message]:
    return [message for message in catalog if message.id]


def _key(message: Message) -> tuple[str | None, str]:
    ident = message.id if isinstance(message.id, str) else message.id[0]
    return message.context, ident


def _strings(value: str | tuple[str, ...] | list[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def _placeholders(text: str) -> tuple[set[str], set[str]]:
    return set(NAMED.findall(text)), set(BRACED.findall(text))


def _config(domain: str) -> Path:
    return LOCALES / ("babel.cfg" if domain == "messages" else f"babel-{domain}.cfg")


def _extract_arguments(config: Path, output: Path) -> list[str]:
    """The `pybabel extract` command from the config's comments, writing to `output`."""
    lines = [line.lstrip("#").strip() for line in config.read_text("utf-8").splitlines()]
    start = next(i for i, line in enumerate(lines) if line.startswith("pybabel extract"))
    command = lines[start]
    while command.endswith("\\"):
        start += 1
        command = command[:-1] + " " + lines[start]
    arguments = shlex.split(command)[2:]
    position = arguments.index("-o")
    arguments[position + 1] = str(output)
    return arguments


def test_there_is_a_messages_domain() -> None:
    assert "messages" in DOMAINS


@pytest.mark.parametrize("language", i18n.SHIPPED)
@pytest.mark.parametrize("domain", DOMAINS)
def test_every_message_is_translated(domain: str, language: str) -> None:
    template = _read(LOCALES / f"{domain}.pot")
    path = LOCALES / language / "LC_MESSAGES" / f"{domain}.po"
    assert path.is_file(), f"{path} is missing"
    catalog = _read(path, language)
    problems: list[str] = []
    for wanted in _entries(template):
        found = catalog.get(wanted.id, context=wanted.context)
        strings = () if found is None else _strings(found.string)
        if found is None or not strings or not all(text.strip() for text in strings):
            problems.append(f"untranslated: {wanted.id!r}")
        elif found.fuzzy:
            problems.append(f"fuzzy (not used at run time): {wanted.id!r}")
        elif isinstance(found.id, tuple) and len(strings) != catalog.num_plurals:
            problems.append(f"plural forms missing: {wanted.id!r}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("language", [code for code in i18n.SHIPPED if code != "en"])
@pytest.mark.parametrize("domain", DOMAINS)
def test_each_translation_says_a_native_review_is_owed(domain: str, language: str) -> None:
    catalog = _read(LOCALES / language / "LC_MESSAGES" / f"{domain}.po", language)
    assert "native" in catalog.header_comment.lower()


# A translation may equal its English text only where that is the right word in that
# language: a shared code, or a word spelt the same (Spanish "No", French "Discrimination").
SAME_AS_ENGLISH: dict[str, frozenset[str]] = {
    "SMS": frozenset({"fr", "es", "pt", "sw", "so", "ha", "uk", "my"}),
    "No": frozenset({"es"}),
    "NO": frozenset({"es"}),
    "Discrimination": frozenset({"fr"}),
    "Total": frozenset({"fr", "es", "pt"}),
    "Pages": frozenset({"fr"}),
    "six": frozenset({"fr"}),
    "zero": frozenset({"pt"}),
}
_NOT_WORDS = re.compile(r"%\(\w+\)[sdifr]|\{\w*\}|<[^>]*>|[^\w]|[\d_]")


def _is_trivial(text: str) -> bool:
    """Placeholders, markup, digits and punctuation only, or a single letter: nothing to say."""
    return len(_NOT_WORDS.sub("", text)) < 2


def untranslated(catalog: Catalog, language: str) -> list[str]:
    """Messages whose translation is empty, blank or the English text itself."""
    problems: list[str] = []
    for message in _entries(catalog):
        originals = _strings(message.id)
        for text in _strings(message.string):
            if not text.strip():
                problems.append(f"empty: {originals[0]!r}")
            elif (
                text in originals
                and not _is_trivial(text)
                and language not in SAME_AS_ENGLISH.get(text, frozenset())
            ):
                problems.append(f"left in English: {originals[0]!r}")
    return problems


@pytest.mark.parametrize("language", [code for code in i18n.SHIPPED if code != "en"])
@pytest.mark.parametrize("domain", DOMAINS)
def test_no_message_is_empty_or_left_in_english(domain: str, language: str) -> None:
    catalog = _read(LOCALES / language / "LC_MESSAGES" / f"{domain}.po", language)
    assert len(_entries(catalog)) > 0
    assert untranslated(catalog, language) == []


def test_the_untranslated_check_catches_what_it_must() -> None:
    catalog = Catalog(locale="fr")
    catalog.add("Send the report", "Send the report")
    catalog.add("Next call", "")
    catalog.add("Kind of problem", "   ")
    catalog.add("%(count)s", "%(count)s")  # placeholders only: nothing to translate
    catalog.add("Discrimination", "Discrimination")  # the French word
    catalog.add("No", "No")  # not the French word
    catalog.add(("one case", "%(num)s cases"), ("une affaire", "%(num)s cases"))
    assert untranslated(catalog, "fr") == [
        "left in English: 'Send the report'",
        "empty: 'Next call'",
        "empty: 'Kind of problem'",
        "left in English: 'No'",
        "left in English: 'one case'",
    ]
    assert untranslated(catalog, "es") == [
        "left in English: 'Send the report'",
        "empty: 'Next call'",
        "empty: 'Kind of problem'",
        "left in English: 'Discrimination'",
        "left in English: 'one case'",
    ]


@pytest.mark.parametrize("language", i18n.SHIPPED)
@pytest.mark.parametrize("domain", DOMAINS)
def test_placeholders_match(domain: str, language: str) -> None:
    catalog = _read(LOCALES / language / "LC_MESSAGES" / f"{domain}.po", language)
    problems: list[str] = []
    for message in _entries(catalog):
        source = " ".join(_strings(message.id))
        for text in _strings(message.string):
            if text and _placeholders(text) != _placeholders(source):
                problems.append(f"{message.id!r} -> {text!r}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("domain", DOMAINS)
def test_placeholders_are_named(domain: str) -> None:
    template = _read(LOCALES / f"{domain}.pot")
    unnamed = [
        message.id
        for message in _entries(template)
        if any(
            POSITIONAL.search(NAMED.sub("", text.replace("%%", "")))
            for text in _strings(message.id)
        )
    ]
    assert not unnamed


@pytest.mark.parametrize("language", i18n.SHIPPED)
@pytest.mark.parametrize("domain", DOMAINS)
def test_catalogs_hold_nothing_the_template_lacks(domain: str, language: str) -> None:
    template = {_key(message) for message in _entries(_read(LOCALES / f"{domain}.pot"))}
    catalog = _read(LOCALES / language / "LC_MESSAGES" / f"{domain}.po", language)
    stale = [message.id for message in _entries(catalog) if _key(message) not in template]
    assert not stale, "run `pybabel update` (see the domain's babel config)"


@pytest.mark.parametrize("domain", DOMAINS)
def test_the_template_is_up_to_date_with_the_source(domain: str, tmp_path: Path) -> None:
    config = _config(domain)
    assert config.is_file(), f"domain {domain!r} needs its extraction config {config.name}"
    output = tmp_path / f"{domain}.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "-q", "extract"]
        + _extract_arguments(config, output),
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=120,
    )
    fresh = {_key(message) for message in _entries(_read(output))}
    shipped = {_key(message) for message in _entries(_read(LOCALES / f"{domain}.pot"))}
    assert fresh - shipped == set(), f"not in locales/{domain}.pot: run the extraction"
    assert shipped - fresh == set(), f"gone from the source but in locales/{domain}.pot"


def test_messages_are_translated_at_run_time() -> None:
    english = "Send the report"
    seen = {language: i18n.translations_for(language).gettext(english) for language in i18n.SHIPPED}
    assert seen["en"] == english
    assert seen["fr"] == "Envoyer le signalement"
    assert len(set(seen.values())) == len(i18n.SHIPPED)


@pytest.mark.parametrize(
    ("requested", "accept", "default", "expected"),
    [
        ("fr", "ar", "en", "fr"),
        ("fr-CA", None, "en", "fr"),
        ("ar_EG", None, "en", "ar"),
        ("de", "so;q=0.2, sw;q=0.8", "en", "sw"),
        (None, "de-DE,de;q=0.9,es;q=0.3", "en", "es"),
        (None, "sw;q=0, so", "en", "so"),
        (None, "fr;q=0.5, ar", "en", "ar"),
        (None, "fr;q=abc, es;q=0.1", "en", "es"),
        (None, "*", "fr", "fr"),
        (None, "", "sw", "sw"),
        (None, None, "de", "en"),
        ("<script>", "zz-ZZ", "en", "en"),
        (None, "EN-gb", "fr", "en"),
    ],
)
def test_negotiate_locale(
    requested: str | None, accept: str | None, default: str, expected: str
) -> None:
    assert i18n.negotiate_locale(requested, accept, default) == expected


def test_direction_and_shipped_language_names() -> None:
    rtl = {code for code in i18n.SHIPPED if i18n.direction(code) == "rtl"}
    assert rtl == {"ar", "ps", "fa"}
    names = {info.code: info.native_name for info in i18n.shipped_languages()}
    assert names == {
        "en": "English",
        "fr": "Français",
        "es": "Español",
        "ar": "العربية",
        "sw": "Kiswahili",
        "so": "Soomaali",
        "pt": "Português",
        "uk": "Українська",
        "ps": "پښتو",
        "fa": "دری",
        "ha": "Hausa",
        "bn": "বাংলা",
        "my": "မြန်မာ",
        "am": "አማርኛ",
    }


# The Portuguese catalogs follow the European and African norm (0 takes the plural).
PLURAL_RULES_OF = {"pt": "pt_PT"}


def _groups(numbers: range, form_of: Callable[[int], object]) -> set[frozenset[int]]:
    found: dict[object, set[int]] = {}
    for n in numbers:
        found.setdefault(form_of(n), set()).add(n)
    return {frozenset(group) for group in found.values()}


@pytest.mark.parametrize("language", i18n.SHIPPED)
def test_babel_knows_every_shipped_language_and_its_plural_rule(language: str) -> None:
    """Babel has the locale, its direction is ours, and each catalog's Plural-Forms
    sorts whole numbers exactly as the language's CLDR plural rule does."""
    locale = Locale.parse(language)
    assert locale.language == language
    assert locale.character_order == ("right-to-left" if language in i18n.RTL else "left-to-right")
    numbers = range(0, 1000)
    rule = Locale.parse(PLURAL_RULES_OF.get(language, language)).plural_form
    for domain in DOMAINS:
        catalog = _read(LOCALES / language / "LC_MESSAGES" / f"{domain}.po", language)
        header = dict(catalog.mime_headers)["Plural-Forms"]
        assert header.startswith(f"nplurals={catalog.num_plurals};"), (domain, header)
        expression = gettext.c2py(catalog.plural_expr)
        assert {expression(n) for n in numbers} == set(range(catalog.num_plurals)), domain
        assert _groups(numbers, expression) == _groups(numbers, rule), (domain, header)
