"""The sign-on pages' copy of each campaign's letter, read again only when its files change."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup

from coalitionletter.campaigns import catalogue as campaigns
from coalitionletter.campaigns.definition import CampaignDefinition, LetterWords
from coalitionletter.campaigns.letter_text import BODY_FILE, body_file
from coalitionletter.campaigns.letter_toml import LETTER_FILE
from coalitionletter.settings import Settings
from coalitionletter.signon import consent

Words = LetterWords | Sequence[LetterWords] | None


@dataclass(frozen=True)
class Letter:
    """A campaign's letter as its files held it when they were last read."""

    stamp: tuple[tuple[int, ...], ...]
    definition: CampaignDefinition
    version: consent.LetterVersion  # in the campaign's own language
    body: Markup
    # Every language version as the page shows it: (language, version, body).
    pages: tuple[tuple[str, consent.LetterVersion, Markup], ...] = ()

    def in_language(self, language: str | None) -> tuple[consent.LetterVersion, Markup]:
        """The version in `language` and its body, or the campaign's own when there is none."""
        for code, version, body in self.pages:
            if code == language:
                return version, body
        return self.version, self.body

    def version_with(self, text_hash: str | None) -> consent.LetterVersion | None:
        """The current version whose exact hash this is (what a page showed), or None."""
        return next((v for _code, v, _body in self.pages if v.text_hash == text_hash), None)


def _stamp(files: tuple[str, ...]) -> tuple[tuple[int, ...], ...] | None:
    stamps = []
    for path in files:
        try:
            found = os.stat(path)
        except OSError:
            return None  # campaigns.load says what is missing
        stamps.append((found.st_mtime_ns, found.st_ctime_ns, found.st_size, found.st_ino))
    return tuple(stamps)


def _files_of(definition: CampaignDefinition, live: bool) -> tuple[str, ...]:
    """The files a letter was read from: letter.toml, and while live every version's body."""
    names = [LETTER_FILE]
    if live:
        names += [body_file(None if v.default else v.language) for v in definition.versions]
    return tuple(str(definition.directory / name) for name in names)


def _in_its_language(body: Markup, language: str, definition: CampaignDefinition) -> Markup:
    """The body marked with its language when the letter has several, so it is read as such.

    (The page itself is in the language of its own words; a letter in one language
    is shown as before.)
    """
    if len(definition.versions) < 2:
        return body
    return Markup('<div class="version-body" lang="{}">\n{}</div>\n').format(language, body)


class Letters:
    """The letters as their files hold them now, read and rendered again only when a file changes.

    Parsing letter.toml and rendering the Markdown on every request took most of a
    confirmation's time under load; a change to any of its files (an edit, a save, a
    replacement) changes its stamp, so every page still shows the current text.
    Once a campaign is published its words come from the published version and
    the body files, drafts, are not read at all.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._letters: dict[str, tuple[Words, Letter]] = {}
        self._files: dict[tuple[str, bool], tuple[str, ...]] = {}

    def current(self, slug: str, words: Words = None) -> Letter:
        """The letter of a campaign as organisations see it now (CampaignError if broken).

        `words`: its published words (one per language), or None while its files are live.
        """
        key = (slug, words is None)
        files = self._files.get(key)
        if files is None:
            directory = campaigns.campaign_dir(self.settings, slug)
            names = (LETTER_FILE, BODY_FILE) if words is None else (LETTER_FILE,)
            files = tuple(str(directory / name) for name in names)
        # Stamped before reading: a change made while reading is seen at the next request.
        stamp = _stamp(files)
        cached = self._letters.get(slug)
        if stamp is not None and cached is not None:
            cached_words, letter = cached
            if cached_words == words and letter.stamp == stamp:
                return letter
        definition = campaigns.load(self.settings, slug, words)
        pages = tuple(
            (
                v.language,
                consent.current(definition, v.language),
                _in_its_language(consent.body_html(definition, v.language), v.language, definition),
            )
            for v in definition.versions
        )
        letter = Letter(stamp or (), definition, pages[0][1], pages[0][2], pages)
        read_from = _files_of(definition, words is None)
        self._files[key] = read_from
        if stamp is not None and read_from == files:
            self._letters[slug] = (words, letter)
        return letter
