"""The `sms` catalogs are complete, and every reply in every language fits 3 SMS."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

from channels.sms import texts as t
from channels.sms.answers import (
    not_saved_reply,
    receipt_reply,
    reply_result,
    status_failure_reply,
    status_reply,
    unknown_number_reply,
)
from channels.sms.conversation import (
    Line,
    State,
    Step,
    category_menu,
    contact_menu,
    language_menu,
    organisation_menu,
    reporter_menu,
    send_menu,
    summary,
)
from channels.sms.segments import segment_count
from intake.i18n import SHIPPED
from intake.reports.schemas import NARRATIVE_MAX, SHORT_TEXT_MAX

ROOT = Path(__file__).resolve().parents[3]
LOCALES = ROOT / "locales"
PLACEHOLDER = re.compile(r"%\((\w+)\)s")
# The longest value each placeholder can take.
LONGEST = {
    "max": SHORT_TEXT_MAX,
    "hours": 8760,
    "receipt": "1234 5678 9012 3456",
    "category": "",
    "reporter": "",
    "contact": "",
    "state": "",
    "length": NARRATIVE_MAX,
}


# The demo table's agencies for one country, and more than any menu can show.
AGENCIES = ("IOM", "UNFPA", "UNHCR", "UNICEF", "WFP", "WHO")
MANY = tuple(f"AGENCY-{number:02d}" for number in range(40))


def _catalog(language: str) -> dict[tuple[str | None, str], str]:
    with (LOCALES / language / "LC_MESSAGES" / "sms.po").open("rb") as handle:
        catalog = read_po(handle, locale=language)
    return {(m.context, str(m.id)): str(m.string) for m in catalog if m.id}


def _template() -> set[tuple[str | None, str]]:
    with (LOCALES / "sms.pot").open("rb") as handle:
        return {(m.context, str(m.id)) for m in read_po(handle) if m.id}


def test_the_template_holds_exactly_the_marked_texts() -> None:
    extracted = {
        (context, message)
        for _line, message, _comments, context in extract_from_file(
            "python",
            ROOT / "channels" / "sms" / "texts.py",
            keywords={"pgettext_noop": ((1, "c"), 2)},
        )
    }
    assert extracted == _template()


@pytest.mark.parametrize("language", SHIPPED)
def test_every_text_is_translated_with_the_same_placeholders(language: str) -> None:
    catalog = _catalog(language)
    assert set(catalog) == _template()
    for (context, message), translation in catalog.items():
        assert translation.strip(), (context, message)
        assert set(PLACEHOLDER.findall(translation)) == set(PLACEHOLDER.findall(message))
        if context == t.KEYWORD:
            forms = translation.split("|")
            assert all(form.strip() and " " not in form.strip() for form in forms), message


@pytest.mark.parametrize("language", SHIPPED)
def test_keywords_of_a_language_are_distinct_and_english_always_works(language: str) -> None:
    texts = t.SmsTexts(language)
    forms = {keyword: set(texts.keyword_forms(keyword)) for keyword in t.KEYWORDS}
    for first, second in itertools.combinations(t.KEYWORDS, 2):
        assert not forms[first] & forms[second], (first, second)
    for keyword in t.KEYWORDS:
        assert t.is_keyword(keyword.lower(), keyword, [texts])
        assert t.is_keyword(texts.keyword_name(keyword), keyword, [texts])


def _all_texts(texts: t.SmsTexts) -> dict[str, str]:
    """Every fixed text, with its placeholders at their longest."""
    longest = {
        **LONGEST,
        "state": max((texts.label(label) for label in t.STATUS_LABELS.values()), key=len),
        "category": max((texts.label(c) for c in t.CATEGORY_LABELS.values()), key=len),
    }
    found = {}
    for name in dir(t):
        value = getattr(t, name)
        if name.isupper() and isinstance(value, str) and (t.TEXT, value) in _template():
            found[name] = texts.text(value, **longest)
    return found


def _menus(texts: t.SmsTexts) -> dict[str, str]:
    again = texts.label(t.NOT_UNDERSTOOD)
    menus = {}
    for name, menu in [
        ("category", category_menu(texts)),
        ("reporter", reporter_menu(texts)),
        ("contact", contact_menu(texts)),
        ("send", send_menu(texts)),
        ("organisation", organisation_menu(texts, Line("KE", (texts.language,), AGENCIES))),
        ("organisation many", organisation_menu(texts, Line("KE", (texts.language,), MANY))),
    ]:
        menus[name] = menu.render()
        menus[f"{name} again"] = menu.render(again)
    return menus


def _replies_after_effects(language: str) -> dict[str, str]:
    replies = {
        "receipt": receipt_reply(language, "1234 5678 9012 3456"),
        "not saved": not_saved_reply(language, rate_limited=False),
        "rate limited": not_saved_reply(language, rate_limited=True),
    }
    for reason in ("invalid", "unknown", "limited"):
        replies[f"status {reason}"] = status_failure_reply(language, reason=reason)
    for reason in ("sent", "invalid", "too_long", "unreadable", "unknown", "limited", "replies"):
        replies[f"reply {reason}"] = reply_result(language, reason=reason)
    for status in t.STATUS_LABELS:
        replies[status] = status_reply(language, status, None)
        replies[f"{status} with message"] = status_reply(language, status, "Merci 🙏 " * 400)
    return replies


def _summaries(language: str) -> dict[str, str]:
    found = {}
    for category, reporter, contact, account in itertools.product(
        t.CATEGORY_LABELS, ("anonymous", "named"), (True, False), ("x", "ü🙂" * NARRATIVE_MAX)
    ):
        state = State(Step.CONFIRM, language, category, reporter, contact, "Name", (account,))
        found[f"summary {category} {reporter} {contact} {len(account)}"] = summary(state)
    return found


@pytest.mark.parametrize("language", SHIPPED)
def test_every_reply_in_every_language_fits_three_segments(language: str) -> None:
    texts = t.SmsTexts(language)
    replies = {
        **_all_texts(texts),
        **_menus(texts),
        **_replies_after_effects(language),
        **_summaries(language),
    }
    assert len(replies) > 60
    too_long = {name: segment_count(text) for name, text in replies.items()}
    assert {name: count for name, count in too_long.items() if count > 3} == {}


def test_every_language_menu_fits_three_segments() -> None:
    for size in range(1, len(SHIPPED) + 1):
        for subset in itertools.combinations(SHIPPED, size):
            for languages in (subset, subset[::-1]):
                menu = language_menu(Line("KE", languages))
                assert segment_count(menu) <= 3, languages
                assert menu.count("\n") == size


def test_the_unknown_number_reply_fits_and_speaks_several_languages() -> None:
    reply = unknown_number_reply(("en", *SHIPPED))
    assert segment_count(reply) <= 3
    assert reply.startswith("Sorry, this number does not take reports.")
    assert "عذرا" in reply
    assert "Désolé" in reply


@pytest.mark.parametrize(
    ("typed", "same", "different"),
    [
        ("Não", "NAO", "No"),
        ("না", "না", "নি"),  # Bengali: the vowel sign is part of the word
        ("ပြီး", "ပြီး", "ပြော"),  # Burmese: "finished" is not "speak"
        ("မဟုတ်", "မဟုတ်", "ဟုတ်"),
        ("بلی", "بلي", "بل"),  # Persian and Arabic yeh, as different keyboards type them
        ("کمک", "كمك", "کم"),  # Persian and Arabic kaf
        ("  ГОТОВО! ", "готово", "готов"),
    ],
)
def test_normalize_folds_variants_but_keeps_words_apart(
    typed: str, same: str, different: str
) -> None:
    assert t.normalize(typed) == t.normalize(same)
    assert t.normalize(typed) != t.normalize(different)
    assert t.normalize(typed)


@pytest.mark.parametrize("language", SHIPPED)
def test_the_summary_shows_the_accounts_start_and_length_never_all_of_it(language: str) -> None:
    account = ("Tunda " * 30, "second message with a secret detail")
    state = State(Step.CONFIRM, language, "fraud_corruption", "named", True, "Name", account)
    text = summary(state)
    narrative = "\n".join(account)
    texts = t.SmsTexts(language)
    assert texts.text(t.SUMMARY_ACCOUNT, length=len(narrative)) in text
    assert texts.label(t.SUMMARY_NAMED) in text
    assert texts.label(t.CATEGORY_LABELS["fraud_corruption"]) in text
    shown = text.split(texts.text(t.SUMMARY_ACCOUNT, length=len(narrative)) + " ")[1]
    excerpt = shown.split("\n")[0]
    assert narrative.startswith(excerpt.rstrip(".…"))
    assert len(excerpt.rstrip(".…")) <= 40
    assert "secret detail" not in text
    assert segment_count(text) <= 3


def test_a_short_account_is_shown_whole_without_an_ellipsis() -> None:
    state = State(Step.CONFIRM, "en", "other", "anonymous", False, None, ("He hit me.",))
    text = summary(state)
    assert "What happened (10 characters): He hit me.\n" in text
    assert "..." not in text
    assert "Anonymous" in text


@pytest.mark.parametrize("language", SHIPPED)
def test_the_organisation_menu_lists_the_agencies_then_do_not_know(language: str) -> None:
    texts = t.SmsTexts(language)
    menu = organisation_menu(texts, Line("KE", (language,), AGENCIES)).render()
    lines = menu.split("\n")
    assert lines[0] == texts.label(t.CHOOSE_ORGANISATION)
    assert lines[1:] == [
        *(f"{number}. {code}" for number, code in enumerate(AGENCIES, 1)),
        f"{len(AGENCIES) + 1}. {texts.label(t.ORGANISATION_UNKNOWN)}",
    ]
    crowded = organisation_menu(texts, Line("KE", (language,), MANY)).render()
    assert segment_count(crowded) <= 3
    assert crowded.endswith(texts.label(t.ORGANISATION_UNKNOWN))


@pytest.mark.parametrize("language", SHIPPED)
def test_every_sms_catalog_text_alone_fits_three_segments(language: str) -> None:
    """A catch-all under the reply test above: no text of the catalog, with its
    placeholders at their longest (keywords as this language says them), is over
    three segments on its own, whether or not a reply above uses it yet."""
    texts = t.SmsTexts(language)
    with (LOCALES / language / "LC_MESSAGES" / "sms.po").open("rb") as handle:
        catalog = read_po(handle, locale=language)
    longest = {**LONGEST, "category": "x" * 60, "reporter": "x" * 60, "state": "x" * 60}
    over = {}
    checked = 0
    for message in catalog:
        if not message.id or isinstance(message.id, tuple):
            continue
        if message.context == t.TEXT:
            filled = texts.text(str(message.id), **longest)
        else:
            filled = str(message.string)
        checked += 1
        if segment_count(filled) > 3:
            over[str(message.id)[:50]] = segment_count(filled)
    assert checked > 40
    assert over == {}
