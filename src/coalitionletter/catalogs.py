"""Words people read on pages and in emails, from gettext catalogs (Babel), by language.

The catalogs are the `.po` files under `translations/<language>/LC_MESSAGES/`,
shipped in the package; a workspace may add its own in `<home>/translations/`
(searched first). They are read at run time with Babel's `read_po` and kept
per process: no compiled `.mo` file is built, installed or committed, so an
editable install and a wheel read the same files (CONTRIBUTING.md, "Adding a
language"). The source language is English: a message with no translation
shows its English msgid.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from babel import Locale
    from babel.support import NullTranslations

PACKAGED = Path(__file__).parent / "translations"
DOMAIN = "messages"
SOURCE_LANGUAGE = "en"
WORKSPACE_FOLDER = "translations"


def catalog_folders(home: Path | None) -> tuple[Path, ...]:
    """The folders searched for catalogs: the workspace's own first, then the packaged ones."""
    folders = []
    if home is not None and (home / WORKSPACE_FOLDER).is_dir():
        folders.append(home / WORKSPACE_FOLDER)
    folders.append(PACKAGED)
    return tuple(folders)


def catalog_path(folder: Path, language: str) -> Path:
    """Where a language's catalog lives in a folder."""
    return folder / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def languages(folders: tuple[Path, ...]) -> tuple[str, ...]:
    """The languages with a catalog in these folders, sorted (English always among them)."""
    found = {SOURCE_LANGUAGE}
    for folder in folders:
        if folder.is_dir():
            found.update(p.name for p in folder.iterdir() if catalog_path(folder, p.name).is_file())
    return tuple(sorted(found))


@cache
def _read(path: Path) -> NullTranslations:
    """One catalog read from its .po file, once per process."""
    # Babel is imported when words are first translated: the core marks its messages
    # with N_ (errors.py), and a command that shows them in English never needs Babel.
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po
    from babel.support import Translations

    with path.open("rb") as po:
        catalog = read_po(po, locale=path.parents[1].name, domain=DOMAIN)
    compiled = BytesIO()
    # Fuzzy entries are left out, as `pybabel compile` leaves them out.
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def translations(language: str | None, folders: tuple[Path, ...]) -> NullTranslations:
    """The translations of a language (the first folder holding it); English gets the msgids."""
    from babel.support import NullTranslations

    for folder in folders:
        path = catalog_path(folder, language or SOURCE_LANGUAGE)
        if path.is_file():
            return _read(path)
    return NullTranslations()


def _candidates(tag: str) -> list[str]:
    """A language tag and its broader forms: zh-Hant-TW, zh-Hant, zh."""
    parts = tag.replace("_", "-").split("-")
    return ["-".join(parts[:n]) for n in range(len(parts), 0, -1)]


def best_language(wanted: Iterable[str | None], folders: tuple[Path, ...], default: str) -> str:
    """The first wanted language that has a catalog (fr-CA finds fr), else the default's.

    The default itself falls back to English when it has no catalog, so a message
    is never half in one language and half in another.
    """
    available = languages(folders)
    for tag in wanted:
        for candidate in _candidates(tag or ""):
            if candidate in available:
                return candidate
    for candidate in _candidates(default):
        if candidate in available:
            return candidate
    return SOURCE_LANGUAGE


@cache
def locale_of(language: str) -> Locale:
    """Babel's locale for a language tag (English when Babel does not know it)."""
    from babel import Locale, UnknownLocaleError

    try:
        return Locale.parse(language.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse(SOURCE_LANGUAGE)


@cache
def language_name(language: str, in_language: str) -> str:
    """A language's name as another language writes it: fr in French is "français"."""
    name = locale_of(language).get_language_name(locale_of(in_language)) or language
    return name


def direction(language: str) -> str:
    """ "rtl" for a language written right to left (Babel's character order), else "ltr"."""
    return "rtl" if locale_of(language).character_order == "right-to-left" else "ltr"


def date_locale(language: str) -> str:
    """The locale dates and numbers are written in: English pages keep British dates."""
    return "en-GB" if language == SOURCE_LANGUAGE else language


class Translator(Protocol):
    """What Words need of a language's catalog: Babel's (Null)Translations, or the stdlib's."""

    def gettext(self, message: str, /) -> str: ...

    def ngettext(self, singular: str, plural: str, n: int, /) -> str: ...


class _English:
    """The source language: the msgids themselves (English plural: one, other)."""

    def gettext(self, message: str, /) -> str:
        return message

    def ngettext(self, singular: str, plural: str, n: int, /) -> str:
        return singular if n == 1 else plural


@dataclass(frozen=True)
class Words:
    """Words to show later in the reader's language: a msgid and its placeholders' values.

    Code that decides what to say before it knows the reader's language (a form's
    errors, a page's notice, a core refusal) says it with `N_` (or `N_plural` for a
    message with a count), and the page translates it; `str()` gives the English,
    which the CLI prints.
    """

    msgid: str
    values: tuple[tuple[str, object], ...] = ()
    plural: str | None = None
    count: int = 0

    def __str__(self) -> str:
        """The English words (the msgid filled in)."""
        return self.in_language(_English())

    def in_language(self, words: Translator) -> str:
        """The words translated, their values filled in (values that are Words translated too)."""
        values = {
            name: value.in_language(words) if isinstance(value, Words) else value
            for name, value in self.values
        }
        if self.plural is None:
            return str(words.gettext(self.msgid)) % values
        return str(words.ngettext(self.msgid, self.plural, self.count)) % values


def N_(msgid: str, **values: object) -> Words:
    """Mark words for the catalogs (`pybabel extract` finds N_) and translate them later."""
    return Words(msgid, tuple(sorted(values.items())))


def N_plural(singular: str, plural: str, count: int, **values: object) -> Words:
    """Mark words with a count for the catalogs (msgid, msgid_plural): each language's forms.

    The count is the value `%(count)s`; babel.cfg names N_plural among the keywords.
    """
    return Words(singular, tuple(sorted({"count": count, **values}.items())), plural, count)


def escaped(text: str) -> Words:
    """Text that is not a msgid (an outside library's message), shown as it is."""
    return Words(text.replace("%", "%%"))
