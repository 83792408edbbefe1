"""Which language a sign-on page is shown in, and the links that switch it.

The choice is carried in the address (`?lang=fr`) and nowhere else: the sign-on
pages set no language cookie and keep nothing between requests. Without one,
a link's page opens in its organisation's contact language where a catalog
exists, else the campaign's; a page that names nobody follows the browser's
Accept-Language.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from flask import request

from coalitionletter import catalogs

LANGUAGE_PARAMETER = "lang"


@dataclass(frozen=True)
class LanguageLink:
    """One entry of the language switch: the language, its own name, and the address."""

    code: str
    name: str
    href: str
    current: bool


def requested_language(folders: tuple[Path, ...]) -> str | None:
    """The language asked for in the address, when it names one with a catalog."""
    asked = request.args.get(LANGUAGE_PARAMETER, "")
    return asked if asked in catalogs.languages(folders) else None


def page_language(
    folders: tuple[Path, ...], contact_languages: Iterable[str | None], default: str
) -> str:
    """The language of a link's page: the address's choice, else the contacts', else the default."""
    return requested_language(folders) or catalogs.best_language(
        contact_languages, folders, default
    )


def visitor_language(folders: tuple[Path, ...]) -> str:
    """The language of a page that names nobody: the address's choice, else the browser's."""
    asked = requested_language(folders)
    if asked:
        return asked
    # In the browser's order of preference (werkzeug's best_match would let an exact
    # "en" beat a preferred "fr-CA", which finds the fr catalog here).
    preferred = [tag for tag, _ in request.accept_languages if tag != "*"]
    return catalogs.best_language(preferred, folders, catalogs.SOURCE_LANGUAGE)


def switch_links(folders: tuple[Path, ...], current: str) -> list[LanguageLink]:
    """The language switch: each catalog's language, named in itself, on this same address."""
    links = []
    for code in catalogs.languages(folders):
        query = {**request.args.to_dict(), LANGUAGE_PARAMETER: code}
        name = catalogs.language_name(code, code)
        own = name[:1].upper() + name[1:]  # "Français" heads a list like "English"
        links.append(LanguageLink(code, own, f"?{urlencode(query)}", code == current))
    return links


def query_for(language: str) -> str:
    """The query string that keeps a language across a form's POST and its redirect."""
    return urlencode({LANGUAGE_PARAMETER: language})
