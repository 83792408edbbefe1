"""Names and free text as they must be printed: checked, never rewritten.

A name is stored exactly as given, apart from the whitespace around it. It is
not NFC-normalised: NFC maps the CJK compatibility ideographs (U+F900...) to
other code points, and a name must come back out of the registry byte for byte
as the organisation wrote it. Canonically equivalent spellings (a precomposed
"é" and "e" + combining accent) still count as the same name, because the
duplicate key is built from NFKC.

What is refused is what can make a printed name read as another, invisibly:
bidirectional controls, zero-width spaces and other format or control
characters, and every other default-ignorable code point (the Unicode property
Default_Ignorable_Code_Point: the combining grapheme joiner, variation
selectors, Hangul fillers, Khmer inherent vowels...), which a font draws as
nothing. The joiners ZWNJ (U+200C) and ZWJ (U+200D) are allowed, because
Persian, Uyghur and Indic names need them. The property comes from the `regex`
library's Unicode tables: Python's unicodedata does not expose it.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from typing import TYPE_CHECKING

from anyascii import anyascii

from coalitionletter.catalogs import N_, Words
from coalitionletter.errors import TextError

if TYPE_CHECKING:
    import regex

ZWNJ = "\u200c"
ZWJ = "\u200d"
ALLOWED_FORMAT = frozenset({ZWNJ, ZWJ})
# Categories refused anywhere in a one-line value: controls, format characters
# (bidi overrides, zero-width space, BOM), surrogates, unassigned code points,
# and the line/paragraph separators.
REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Cn", "Zl", "Zp"})
MULTILINE_ALLOWED = frozenset({"\n", "\t"})
BIDI_CONTROLS = frozenset(
    [chr(c) for c in range(0x202A, 0x202F)]
    + [chr(c) for c in range(0x2066, 0x206A)]
    + ["\u200e", "\u200f", "\u061c"]
)
# Leading articles a sort name drops, so "The X Foundation" files under X.
LEADING_ARTICLES = ("the ", "a ", "an ")
SLUG_MAX = 80
APOSTROPHES = frozenset("'\u2019\u02bc")


@cache
def _ignorable() -> regex.Pattern[str]:
    """Default-ignorable code points but the joiners (imported on first non-ASCII value)."""
    import regex

    return regex.compile(r"[\p{Default_Ignorable_Code_Point}--[\u200c\u200d]]", regex.V1)


def is_ignorable(char: str) -> bool:
    """True for a default-ignorable code point other than ZWNJ and ZWJ: drawn as nothing."""
    return not char.isascii() and _ignorable().match(char) is not None


def character_label(char: str) -> str:
    """`U+202E RIGHT-TO-LEFT OVERRIDE`: how a refused character is named to staff."""
    name = unicodedata.name(char, "")
    if not name:
        category = unicodedata.category(char)
        name = {"Cc": "control character", "Cn": "unassigned code point"}.get(
            category, f"character of category {category}"
        )
    return f"U+{ord(char):04X} {name}"


def _why(char: str) -> Words:
    if char in BIDI_CONTROLS:
        return N_("an invisible bidirectional control can make a printed name read as another")
    if unicodedata.category(char) == "Cf" or is_ignorable(char):
        return N_("an invisible character can make two different names look the same")
    return N_("control characters do not belong in a printed name")


def refused_character(value: str, *, multiline: bool = False) -> tuple[int, str] | None:
    """The first refused character in a value as (1-based position, character), or None."""
    # Python's "printable" excludes every C and Z category but the space, a superset
    # of the refused ones; the other default-ignorables (marks, Hangul fillers) are
    # all outside ASCII. So a printable ASCII value has nothing refused (the fast path).
    if value.isprintable() and (value.isascii() or _ignorable().search(value) is None):
        return None
    for index, char in enumerate(value):
        if char in ALLOWED_FORMAT or (multiline and char in MULTILINE_ALLOWED | {"\r"}):
            continue
        if unicodedata.category(char) in REFUSED_CATEGORIES or is_ignorable(char):
            return index + 1, char
    return None


def clean_text(
    value: str | None,
    field: str | Words,
    *,
    max_length: int,
    required: bool = False,
    multiline: bool = False,
) -> str | None:
    """Strip outer whitespace and check a value; None for empty. Raises TextError.

    `field` names the value in the message: Words (N_("Website")) are translated
    with it where a page shows it.
    """
    text = (value or "").strip()
    if not text:
        if required:
            raise TextError(
                N_("%(field)s is empty. Fill it in (it is required).", field=field), "empty"
            )
        return None
    # Printable ASCII has nothing refused in it (see refused_character): most values.
    plain = text.isascii() and text.isprintable()
    found = None if plain else refused_character(text, multiline=multiline)
    if found is not None:
        position, char = found
        raise TextError(
            N_(
                "%(field)s has the character %(character)s at position %(position)s "
                "(%(why)s). Remove it and try again.",
                field=field,
                character=character_label(char),
                position=position,
                why=_why(char),
            ),
            "character",
            character=character_label(char),
            position=position,
        )
    if multiline:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if len(text) > max_length:
        raise TextError(
            N_(
                "%(field)s is %(length)s characters long; at most %(limit)s are allowed. "
                "Shorten it.",
                field=field,
                length=len(text),
                limit=max_length,
            ),
            "length",
            length=len(text),
            limit=max_length,
        )
    return text


def clean_name(value: str | None, field: str | Words, *, max_length: int) -> str:
    """An organisation's name, checked: required, printable, with a letter or digit in it."""
    return clean_name_and_key(value, field, max_length=max_length)[0]


def clean_name_and_key(
    value: str | None, field: str | Words, *, max_length: int
) -> tuple[str, str]:
    """`clean_name` and the name's duplicate key, which the check computes anyway."""
    text = clean_text(value, field, max_length=max_length, required=True)
    assert text is not None
    key = name_key(text)
    if not has_letter_or_digit(key):
        raise TextError(
            N_(
                "%(field)s %(value)s has no letter or digit in it. Give the real name.",
                field=field,
                value=repr(text),
            ),
            "no_letter",
        )
    return text, key


def has_letter_or_digit(text: str) -> bool:
    """True when a text holds a letter or a digit (not only marks, symbols or punctuation)."""
    if text.isalnum():
        return True  # every character a letter or digit: nearly every key, at C speed
    return any(unicodedata.category(char)[0] in "LN" for char in text)


def name_key(name: str) -> str:
    """The key two names share when they are the same name written differently.

    NFKC folds compatibility forms (full-width letters, ligatures), casefold
    folds case (including ß/ss), and every space, punctuation mark, joiner and
    control is dropped, and so is a leading "The", "A" or "An", so "Human
    Rights First", "The HUMAN-RIGHTS  FIRST" and "Ｈｕｍａｎ Rights First." share
    one key.
    """
    text = default_sort_name(name.strip())
    if text.isascii():
        # NFKC leaves ASCII as it is and casefold is lower(): the same key, and bytes
        # drop the punctuation, spaces and controls ~5x faster than str.translate.
        return text.encode("ascii").translate(None, _ASCII_PZC_BYTES).decode("ascii").lower()
    return _folded(text)


def _folded(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold()
    folded = unicodedata.normalize("NFKC", folded)
    # Default-ignorables are dropped too, so a name stored before they were refused
    # still shares its key with the same name written without them.
    folded = _ignorable().sub("", folded)
    return "".join(char for char in folded if unicodedata.category(char)[0] not in "PZC")


def default_sort_name(name: str) -> str:
    """The name a list files an organisation under: without a leading "The", "A" or "An"."""
    if name.isascii() and name[:1] not in "TtAa":
        return name  # ASCII casefolds by lower(): only a t or an a can begin an article
    return _without_article(name)


def _without_article(name: str) -> str:
    lowered = name.casefold()
    for article in LEADING_ARTICLES:
        if lowered.startswith(article) and len(name) > len(article):
            rest = name[len(article) :].lstrip()
            if rest:
                return rest
    return name


def sort_key(sort_name: str) -> tuple[str, str]:
    """A key for ordering lists: accents and case ignored first, then the exact text."""
    decomposed = unicodedata.normalize("NFKD", sort_name.casefold())
    base = "".join(char for char in decomposed if not unicodedata.combining(char))
    return base, sort_name


def _separates_words(char: str) -> bool:
    return unicodedata.category(char)[0] in "PZ" and char not in APOSTROPHES


def _spaced(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name)
    # Dashes and other punctuation separate words; apostrophes join them (lawyers-guild).
    return "".join(" " if _separates_words(char) else char for char in decomposed)


_ASCII = [chr(code) for code in range(128)]
_ASCII_PZC_BYTES = "".join(c for c in _ASCII if unicodedata.category(c)[0] in "PZC").encode()
# Every ASCII byte that is not a letter or digit becomes a space, capitals small letters.
_ASCII_SLUG_BYTES = bytes.maketrans(
    bytes(range(128)),
    "".join(c.lower() if c.isalnum() else " " for c in _ASCII).encode("ascii"),
)


_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def slugify(name: str) -> str:
    """A lowercase ASCII slug for command lines and file names ("org" when none is left)."""
    slug = _ascii_slug(name) if name.isascii() else _any_slug(name)
    if not slug:
        return "org"
    # An all-digit slug would be read as an id by find_organisation.
    return f"org-{slug}" if slug.isdigit() else slug


def _any_slug(name: str) -> str:
    # Transliterated rather than dropped: "Łódź" is lodz and a name in Uyghur or
    # Chinese gets a readable slug of its own instead of org, org-2, ...
    spaced = unicodedata.normalize("NFC", _spaced(name))
    # A typographic apostrophe joins words (d’Exemple: dexemple); the ASCII one
    # separates them, as in _ascii_slug, so both paths give one slug for ASCII.
    joined = "".join(char for char in spaced if char == "'" or char not in APOSTROPHES)
    ascii_text = anyascii(joined).lower()
    return _NOT_SLUG.sub("-", ascii_text).strip("-")[:SLUG_MAX].strip("-")


def _ascii_slug(name: str) -> str:
    """`_any_slug` for ASCII: every run of characters other than a-z0-9 is one hyphen.

    A byte table and split() give that without NFKD, a loop or a pattern.
    """
    words = name.encode("ascii").translate(_ASCII_SLUG_BYTES).split()
    return b"-".join(words).decode("ascii")[:SLUG_MAX].strip("-")


SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def check_slug(value: str) -> str:
    """A slug given by hand: lowercase ASCII letters, digits and single hyphens."""
    slug = value.strip()
    if not SLUG_PATTERN.match(slug) or len(slug) > SLUG_MAX or slug.isdigit():
        raise TextError(
            N_(
                "Slug %(value)s is not usable: use lowercase letters a-z, digits and single "
                "hyphens, at most %(limit)s characters, not only digits (e.g. pen-america).",
                value=repr(value),
                limit=SLUG_MAX,
            )
        )
    return slug
