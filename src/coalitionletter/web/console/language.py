"""Which language the console speaks: the person's choice, else the browser's, else English.

The choice is made by a plain link (`?lang=fr`, the same switch as the sign-on
pages) and kept in the console's own session cookie, so it holds across pages,
signing in and signing out. The sign-on pages keep no such cookie
(web/language.py).
"""

from __future__ import annotations

from pathlib import Path

from flask import session

from coalitionletter import catalogs
from coalitionletter.web.language import requested_language, visitor_language

SESSION_KEY = "language"


def console_language(folders: tuple[Path, ...]) -> str:
    """The language of this console page; a language asked for in the address is kept."""
    asked = requested_language(folders)
    if asked:
        # A display preference in the signed cookie, not a change of any record.
        session[SESSION_KEY] = asked
        return asked
    chosen = session.get(SESSION_KEY)
    if isinstance(chosen, str) and chosen in catalogs.languages(folders):
        return chosen
    return visitor_language(folders)


def kept_choice() -> str | None:
    """The language chosen in this session, to carry over when the session starts afresh."""
    chosen = session.get(SESSION_KEY)
    return chosen if isinstance(chosen, str) else None


def keep_choice(language: str | None) -> None:
    """Put a chosen language back into a session that was just cleared."""
    if language:
        session[SESSION_KEY] = language


def country_in(language: str, code: str | None, english: str) -> str:
    """A country's name as the page's language writes it (Babel), else the registry's English."""
    if language == catalogs.SOURCE_LANGUAGE or not code:
        return english
    return str(catalogs.locale_of(language).territories.get(code.upper(), english))
