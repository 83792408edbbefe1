"""Names are kept exactly as written; invisible characters that could disguise one are refused."""

import unicodedata

import pytest

from coalitionletter import names
from coalitionletter.errors import CountryError, TextError
from coalitionletter.registry import countries

KEPT = [
    "Fondation Lumière d’Exemple",
    "Lantern Harbour Friends of Hong Kong (燈籠港香港之友)",
    "ئاتلانتىس ئۇيغۇر ئاياللار بىرلىكى",
    "انجمن نمونه\u200cای حقوق بشر",  # ZWNJ, which Persian spelling needs
    "क्\u200dष Example Sabha",  # ZWJ, which Indic scripts need
    "Örnek İnsan Hakları Derneği",
    "Ｆｕｌｌ Ｗｉｄｔｈ Ｆｏｒｕｍ",
]


@pytest.mark.parametrize("name", KEPT)
def test_names_in_every_script_are_kept_exactly_as_given(name: str) -> None:
    assert names.clean_name(f"  {name}\t", "Name", max_length=300) == name


def test_a_decomposed_accent_is_not_rewritten_to_the_composed_one() -> None:
    decomposed = "Lumie\u0300re"
    assert names.clean_name(decomposed, "Name", max_length=300) == decomposed


def test_a_cjk_compatibility_ideograph_is_kept_though_nfc_would_change_it() -> None:
    name = "Example \uf900 Society"
    assert unicodedata.normalize("NFC", name) != name
    assert names.clean_name(name, "Name", max_length=300) == name


@pytest.mark.parametrize(
    ("char", "label"),
    [
        ("\u202e", "U+202E RIGHT-TO-LEFT OVERRIDE"),
        ("\u202a", "U+202A LEFT-TO-RIGHT EMBEDDING"),
        ("\u2066", "U+2066 LEFT-TO-RIGHT ISOLATE"),
        ("\u2069", "U+2069 POP DIRECTIONAL ISOLATE"),
        ("\u200b", "U+200B ZERO WIDTH SPACE"),
        ("\ufeff", "U+FEFF ZERO WIDTH NO-BREAK SPACE"),
        ("\u200f", "U+200F RIGHT-TO-LEFT MARK"),
        ("\x07", "U+0007 control character"),
        ("\n", "U+000A control character"),
    ],
)
def test_invisible_and_control_characters_are_refused_naming_the_character_and_position(
    char: str, label: str
) -> None:
    with pytest.raises(TextError) as refused:
        names.clean_name(f"Human{char} Rights First", "Name", max_length=300)
    assert label in str(refused.value)
    assert "position 6" in str(refused.value)


# Default-ignorable code points that are not format characters: marks and letters that
# a font draws as nothing, so "Human Rights First" with one reads as the name without it.
IGNORABLE = [
    ("\u034f", "U+034F COMBINING GRAPHEME JOINER"),
    ("\ufe00", "U+FE00 VARIATION SELECTOR-1"),
    ("\ufe0f", "U+FE0F VARIATION SELECTOR-16"),
    ("\U000e0100", "U+E0100 VARIATION SELECTOR-17"),
    ("\u180b", "U+180B MONGOLIAN FREE VARIATION SELECTOR ONE"),
    ("\u180f", "U+180F MONGOLIAN FREE VARIATION SELECTOR FOUR"),
    ("\u17b4", "U+17B4 KHMER VOWEL INHERENT AQ"),
    ("\u17b5", "U+17B5 KHMER VOWEL INHERENT AA"),
    ("\u115f", "U+115F HANGUL CHOSEONG FILLER"),
    ("\u1160", "U+1160 HANGUL JUNGSEONG FILLER"),
    ("\u3164", "U+3164 HANGUL FILLER"),
    ("\uffa0", "U+FFA0 HALFWIDTH HANGUL FILLER"),
]


@pytest.mark.parametrize(("char", "label"), IGNORABLE)
def test_default_ignorable_characters_are_refused_as_invisible(char: str, label: str) -> None:
    with pytest.raises(TextError) as refused:
        names.clean_name(f"Human{char} Rights First", "Name", max_length=300)
    assert label in str(refused.value)
    assert "position 6" in str(refused.value)
    assert "look the same" in str(refused.value)


@pytest.mark.parametrize(("char", "label"), IGNORABLE)
def test_default_ignorable_characters_are_refused_in_any_one_line_value(
    char: str, label: str
) -> None:
    with pytest.raises(TextError, match=label.split(maxsplit=1)[0].replace("+", "\\+")):
        names.clean_text(f"Li{char} Wei", "Your name", max_length=300)


def test_the_ignorable_set_is_the_unicode_property_not_a_hand_list() -> None:
    # U+2065 is an unassigned code point the property reserves; U+E0FFF is unassigned too.
    found = [chr(c) for c in range(0x110000) if names.is_ignorable(chr(c))]
    assert len(found) > 4000
    assert "\u200c" not in found and "\u200d" not in found
    assert all(char in found for char, _ in IGNORABLE)
    assert "a" not in found and "\u0301" not in found  # positive controls: visible marks stay


def test_ignorable_characters_are_dropped_from_the_duplicate_key() -> None:
    # A name stored before the refusal still matches the same name written plainly.
    assert names.name_key("Human Rights First\u034f") == names.name_key("Human Rights First")
    assert names.name_key("Human\u3164Rights First") == names.name_key("HumanRights First")


@pytest.mark.parametrize("only_marks", ["\u0301", "\u0301\u0308\u0327", "\u064b\u0652"])
def test_a_name_of_combining_marks_only_is_refused(only_marks: str) -> None:
    with pytest.raises(TextError, match="no letter or digit"):
        names.clean_name(only_marks, "Name", max_length=300)


def test_a_name_of_symbols_only_is_refused() -> None:
    with pytest.raises(TextError, match="no letter or digit"):
        names.clean_name("\u2665\u2605", "Name", max_length=300)


def test_a_bidi_override_is_explained_as_making_a_name_read_as_another() -> None:
    with pytest.raises(TextError, match="read as another"):
        names.clean_name("PEN \u202eaciremA", "Name", max_length=300)


def test_notes_may_hold_line_breaks_and_tabs_but_not_bidi_controls() -> None:
    notes = "First line\r\nSecond\tline"
    assert names.clean_text(notes, "Notes", max_length=100, multiline=True) == (
        "First line\nSecond\tline"
    )
    with pytest.raises(TextError, match="U\\+2067"):
        names.clean_text("a\u2067b", "Notes", max_length=100, multiline=True)


def test_an_empty_name_is_refused() -> None:
    with pytest.raises(TextError, match="Name is empty"):
        names.clean_name("   ", "Name", max_length=300)


def test_a_name_of_punctuation_only_is_refused() -> None:
    with pytest.raises(TextError, match="no letter or digit"):
        names.clean_name("(--)", "Name", max_length=300)


def test_an_over_long_name_is_refused_with_its_length_and_the_limit() -> None:
    with pytest.raises(TextError, match="301 characters long; at most 300"):
        names.clean_name("x" * 301, "Name", max_length=300)


@pytest.mark.parametrize(
    "variant",
    [
        "human rights first",
        "HUMAN-RIGHTS  FIRST",
        "Human Rights First.",
        "The Human Rights First",
        "Ｈｕｍａｎ Rights First",
        "Human\u200d Rights First",
    ],
)
def test_spellings_of_one_name_share_a_duplicate_key(variant: str) -> None:
    assert names.name_key(variant) == names.name_key("Human Rights First")


def test_composed_and_decomposed_accents_share_a_duplicate_key() -> None:
    assert names.name_key("Lumière") == names.name_key("Lumie\u0300re")


def test_different_names_have_different_keys() -> None:
    assert names.name_key("Human Rights First") != names.name_key("Human Rights Foundation")
    assert names.name_key("Lumière") != names.name_key("Lumiere")


@pytest.mark.parametrize(
    ("name", "sort_name"),
    [
        ("The Kestrel Foundation", "Kestrel Foundation"),
        ("An Example Forum", "Example Forum"),
        ("Theatre Rights Group", "Theatre Rights Group"),
        ("The", "The"),
        ("PEN America", "PEN America"),
    ],
)
def test_the_default_sort_name_drops_a_leading_article(name: str, sort_name: str) -> None:
    assert names.default_sort_name(name) == sort_name


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Human Rights First", "human-rights-first"),
        ("Fondation Lumière d’Exemple", "fondation-lumiere-dexemple"),
        (
            "Lantern Harbour Friends of Hong Kong (燈籠港香港之友)",
            "lantern-harbour-friends-of-hong-kong-denglonggangxianggangzhiyou",
        ),
        ("Tibet–Uyghur Circle", "tibet-uyghur-circle"),
        ("ئاتلانتىس ئۇيغۇر", "i-tlntas-i-uyghur"),
        ("加拿大香港之友", "jianadaxianggangzhiyou"),
        ("Łódź Hak Derneği", "lodz-hak-dernegi"),
        ("Dünya Uygur Kurultayı", "dunya-uygur-kurultayi"),
        ("!!!", "org"),
        ("1990", "org-1990"),
    ],
)
def test_slugs_are_lowercase_ascii_words(name: str, slug: str) -> None:
    assert names.slugify(name) == slug


def test_a_hand_made_slug_with_capitals_or_spaces_is_refused() -> None:
    with pytest.raises(TextError, match="lowercase letters"):
        names.check_slug("PEN America")


@pytest.mark.parametrize(
    ("given", "code"),
    [
        ("GB", "GB"),
        ("gb", "GB"),
        ("UK", "GB"),
        ("United Kingdom", "GB"),
        ("GBR", "GB"),
        ("Turkey", "TR"),
        ("Türkiye", "TR"),
        ("Cote d'Ivoire", "CI"),
        ("Taiwan", "TW"),
        ("united states of america", "US"),
        ("XK", "XK"),
        ("xk", "XK"),
        ("Kosovo", "XK"),
        ("XKX", "XK"),
        ("", None),
    ],
)
def test_countries_are_read_from_a_code_or_an_english_name(given: str, code: str | None) -> None:
    assert countries.parse_country(given) == code


@pytest.mark.parametrize("given", ["ZZ", "Narnia", "East Turkistan", "Englnad"])
def test_an_unknown_country_is_refused_rather_than_guessed(given: str) -> None:
    with pytest.raises(CountryError, match="not an ISO 3166-1 country"):
        countries.parse_country(given)


def test_a_country_code_is_shown_by_its_common_name() -> None:
    assert countries.country_name("GB") == "United Kingdom"
    assert countries.country_name("TW") == "Taiwan"
    assert countries.country_name("XK") == "Kosovo"
    assert countries.country_name(None) == ""
