"""The sign-on pages' copy of each campaign's letter, read again only when its files change."""

from __future__ import annotations

import os
from dataclasses import dataclass

from markupsafe import Markup

from coalitionletter.campaigns import catalogue as campaigns
from coalitionletter.campaigns.definition import CampaignDefinition, LetterWords
from coalitionletter.campaigns.letter_text import BODY_FILE
from coalitionletter.campaigns.letter_toml import LETTER_FILE
from coalitionletter.settings import Settings
from coalitionletter.signon import consent


@dataclass(frozen=True)
class Letter:
    """A campaign's letter as its files held it when they were last read."""

    stamp: tuple[tuple[int, ...], ...]
    definition: CampaignDefinition
    version: consent.LetterVersion
    body: Markup


def _stamp(files: tuple[str, ...]) -> tuple[tuple[int, ...], ...] | None:
    stamps = []
    for path in files:
        try:
            found = os.stat(path)
        except OSError:
            return None  # campaigns.load says what is missing
        stamps.append((found.st_mtime_ns, found.st_ctime_ns, found.st_size, found.st_ino))
    return tuple(stamps)


class Letters:
    """The letters as their files hold them now, read and rendered again only when a file changes.

    Parsing letter.toml and rendering the Markdown on every request took most of a
    confirmation's time under load; a change to either file (an edit, a save, a
    replacement) changes its stamp, so every page still shows the current text.
    Once a campaign is published its words come from the published version and
    body.md, a draft, is not read at all.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._letters: dict[str, tuple[LetterWords | None, Letter]] = {}
        self._files: dict[tuple[str, bool], tuple[str, ...]] = {}

    def current(self, slug: str, words: LetterWords | None = None) -> Letter:
        """The letter of a campaign as organisations see it now (CampaignError if broken).

        `words`: its published words, or None while its files are live.
        """
        files = self._files.get((slug, words is None))
        if files is None:
            directory = campaigns.campaign_dir(self.settings, slug)
            names = (LETTER_FILE, BODY_FILE) if words is None else (LETTER_FILE,)
            files = tuple(str(directory / name) for name in names)
            self._files[(slug, words is None)] = files
        stamp = _stamp(files)
        cached = self._letters.get(slug)
        if stamp is not None and cached is not None:
            cached_words, letter = cached
            if cached_words == words and letter.stamp == stamp:
                return letter
        definition = campaigns.load(self.settings, slug, words)
        version = consent.current(definition)
        letter = Letter(stamp or (), definition, version, consent.body_html(definition))
        if stamp is not None:
            self._letters[slug] = (words, letter)
        return letter
