"""The gettext catalogs: every shipped language complete, and nothing extracted left out."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from coalitionletter import catalogs
from coalitionletter.errors import CountryError

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = sorted(p.parents[1].name for p in catalogs.PACKAGED.glob("*/LC_MESSAGES/messages.po"))


def _catalog(language: str):
    with catalogs.catalog_path(catalogs.PACKAGED, language).open("rb") as po:
        return read_po(po, locale=language)


def _extracted() -> set[str]:
    """Every msgid `pybabel extract -F babel.cfg` finds in the sources today."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config)
    found = set()
    for _, _, message, _, _ in extract_from_dir(ROOT, method_map, options_map):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_english_and_french_are_shipped() -> None:
    assert {"en", "fr"} <= set(SHIPPED), SHIPPED


def test_extraction_finds_the_emails_words() -> None:
    # Positive control for the completeness test below: extraction is not empty.
    assert "Your organisation's personal link:" in _extracted()


@pytest.mark.parametrize("language", SHIPPED)
def test_every_extracted_message_is_in_the_catalog(language: str) -> None:
    catalog = _catalog(language)
    known = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}
    assert sorted(_extracted() - known) == []


@pytest.mark.parametrize("language", SHIPPED)
def test_no_message_is_missing_or_fuzzy(language: str) -> None:
    catalog = _catalog(language)
    assert not catalog.fuzzy, "the catalog's header is marked fuzzy"
    untranslated = [m.id for m in catalog if m.id and not all(_strings(m))]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert (untranslated, fuzzy) == ([], [])


@pytest.mark.parametrize("language", SHIPPED)
def test_translations_keep_the_placeholders(language: str) -> None:
    # Babel's checkers: a translation that drops or renames a %(name)s would fail at run time.
    problems = [(m.id, [str(e) for e in errors]) for m, errors in _catalog(language).check()]
    assert problems == []


def test_plural_messages_have_every_form_of_the_language() -> None:
    catalog = _catalog("fr")
    plurals = [m for m in catalog if m.id and m.pluralizable]
    assert plurals, "the pages' words include plural messages"
    assert all(len(m.string) == catalog.num_plurals for m in plurals)


def test_no_compiled_catalog_is_in_the_package() -> None:
    assert list(catalogs.PACKAGED.rglob("*.po")), "positive control: the catalogs are there"
    assert list(catalogs.PACKAGED.rglob("*.mo")) == []


def _strings(message) -> tuple[str, ...]:
    return message.string if isinstance(message.string, tuple) else (message.string,)


# --- choosing a language, and what follows from it -------------------------------------

FOLDERS = (catalogs.PACKAGED,)


@pytest.mark.parametrize(
    ("wanted", "default", "chosen"),
    [
        (["fr"], "en", "fr"),
        (["fr-CA"], "en", "fr"),  # a regional tag finds its language's catalog
        (["ug", "fr"], "en", "fr"),  # the first contact whose language has a catalog
        (["ug"], "fr", "fr"),  # none has one: the campaign's language
        ([None], "fr", "fr"),
        (["ug"], "de", "en"),  # nor the campaign's: English, the source language
    ],
)
def test_the_best_language_is_the_first_with_a_catalog(
    wanted: list[str | None], default: str, chosen: str
) -> None:
    assert catalogs.best_language(wanted, FOLDERS, default) == chosen


def test_arabic_is_written_right_to_left_and_french_left_to_right() -> None:
    assert catalogs.direction("ar") == "rtl"
    assert catalogs.direction("fr") == "ltr"


def test_numbers_and_dates_follow_the_renders_language() -> None:
    from datetime import date

    from coalitionletter.render import make_environment

    template = make_environment(None).from_string("{{ 12345|number }} / {{ when|day }}")
    assert template.render(language="fr", when=date(2020, 8, 14)) == "12\u202f345 / 14 août 2020"
    assert template.render(language="en", when=date(2020, 8, 14)) == "12,345 / 14 August 2020"


def test_words_marked_in_code_are_translated_where_shown() -> None:
    words = catalogs.N_("Choose how your organisation may be named.")
    french = catalogs.translations("fr", FOLDERS)
    assert (
        words.in_language(french)
        == "Indiquez de quelle manière votre organisation peut être nommée."
    )
    assert str(words) == "Choose how your organisation may be named."


def test_extraction_finds_plural_words_marked_in_python() -> None:
    # babel.cfg names N_plural among the keywords: its msgid and msgid_plural are extracted.
    with (ROOT / "babel.cfg").open(encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config)
    found = {m for _, _, m, _, _ in extract_from_dir(ROOT, method_map, options_map)}
    assert ("Queued %(count)s invitation.", "Queued %(count)s invitations.") in found
    assert "Queued %(count)s invitation." not in found  # positive: not a lone msgid


@pytest.mark.parametrize(
    ("count", "english", "french"),
    [
        (1, "Queued 1 invitation.", "1 invitation mise en file d’attente."),
        (5, "Queued 5 invitations.", "5 invitations mises en file d’attente."),
    ],
)
def test_plural_words_take_each_languages_form_for_their_count(
    count: int, english: str, french: str
) -> None:
    words = catalogs.N_plural(
        "Queued %(count)s invitation.", "Queued %(count)s invitations.", count
    )
    assert str(words) == english
    assert words.in_language(catalogs.translations("fr", FOLDERS)) == french


def test_a_core_refusal_is_english_as_text_and_french_as_words() -> None:
    from coalitionletter.errors import words_of
    from coalitionletter.registry.countries import parse_country

    with pytest.raises(CountryError) as refused:
        parse_country("Narnia")
    assert str(refused.value) == (
        "Country 'Narnia' is not an ISO 3166-1 country. Give a two-letter code such as GB or "
        "an English name such as United Kingdom, or leave it empty."
    )
    said = words_of(refused.value).in_language(catalogs.translations("fr", FOLDERS))
    assert said.startswith("Le pays 'Narnia' n’est pas un pays de la norme ISO 3166-1.")


def test_text_that_is_not_words_is_shown_as_it_is_in_any_language() -> None:
    from coalitionletter.errors import RegistryError, words_of

    french = catalogs.translations("fr", FOLDERS)
    assert words_of(RegistryError("100% sure: keep it")).in_language(french) == (
        "100% sure: keep it"
    )
    assert words_of(ValueError("50%")).in_language(french) == "50%"
