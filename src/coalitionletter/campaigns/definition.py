"""A campaign as its files define it: the letter's addressees, its lead and its words.

Plain frozen values, made by `campaigns.load` after every check has passed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from coalitionletter.errors import CampaignError

# A campaign's folder name, and a recipient's key (both name files).
SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,118}[a-z0-9]$")


@dataclass(frozen=True)
class Recipient:
    """One addressee of the letter: one government office, one printed copy."""

    key: str
    name: str
    honorific: str
    title: str
    department: str
    address_lines: tuple[str, ...]
    salutation: str
    locale: str
    paper: str
    postnominals: str = ""
    # The letter's languages this recipient receives, in print order ((): the campaign's).
    languages: tuple[str, ...] = ()
    # The recipient as addressed in each other language (its title, salutation, locale).
    translations: tuple[tuple[str, Recipient], ...] = ()

    def in_language(self, language: str) -> Recipient:
        """The recipient as a version in `language` addresses it (itself when not translated)."""
        return dict(self.translations).get(language, self)

    @property
    def full_name(self) -> str:
        """The name as the address block prints it: honorific, name, post-nominals.

        Post-nominals starting with a comma attach with it (Canadian ", P.C., M.P."),
        others after a space (British "MP").
        """
        name = " ".join(part for part in (self.honorific, self.name) if part)
        if not self.postnominals:
            return name
        separator = "" if self.postnominals.startswith(",") else " "
        return f"{name}{separator}{self.postnominals}"


@dataclass(frozen=True)
class LeadOrganisation:
    """The organisation whose letterhead the letter carries."""

    name: str
    short_name: str = ""
    address_lines: tuple[str, ...] = ()
    website: str = ""
    email: str = ""


@dataclass(frozen=True)
class EmailSettings:
    """How invitations for this campaign are sent (used by the sign-on mail)."""

    sender: str
    reply_to: str
    subject: str
    # False when letter.toml gives no subject: each message then says "Invitation to
    # sign: <title>" in its own language; a subject staff wrote is sent as written.
    subject_written: bool = True


@dataclass(frozen=True)
class LetterWords:
    """The words organisations consent to: the parts the consent hash covers."""

    title: str
    body: str  # body.md as read (placeholders not filled)
    closing: str
    lead: str  # the lead organisation's name
    # "" for the campaign's own language (body.md); else the version's (body.<language>.md).
    language: str = ""

    def as_json(self) -> str:
        """The parts as canonical JSON, as letter_texts.source keeps them."""
        parts = {"title": self.title, "body": self.body, "closing": self.closing, "lead": self.lead}
        if self.language:
            # Only other versions carry it: a default version's copy stays as it always was.
            parts["language"] = self.language
        return json.dumps(parts, ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> LetterWords:
        """The parts from letter_texts.source."""
        values = json.loads(text)
        return cls(
            values["title"],
            values["body"],
            values["closing"],
            values["lead"],
            values.get("language", ""),
        )


@dataclass(frozen=True)
class LanguageVersion:
    """The letter in one language: the words organisations reading it consent to, and their hash."""

    language: str
    title: str
    closing: str
    body_source: str
    text_hash: str
    legacy_text_hash: str = ""
    default: bool = True  # the campaign's own language (body.md)

    def words(self, lead: str) -> LetterWords:
        """This version's words, as letter_texts keeps them."""
        return LetterWords(
            self.title, self.body_source, self.closing, lead, "" if self.default else self.language
        )

    @property
    def hashes(self) -> frozenset[str]:
        """The consent hashes that count as agreement to this version's words."""
        return frozenset(h for h in (self.text_hash, self.legacy_text_hash) if h)


@dataclass(frozen=True)
class CampaignDefinition:
    """A campaign as its files define it, validated."""

    slug: str
    directory: Path
    title: str
    lead: LeadOrganisation
    letter_date: date | None  # None: the build date
    deadline: datetime | None
    recipients: tuple[Recipient, ...]
    closing: str
    body_source: str
    text_hash: str
    seed_path: Path | None
    email: EmailSettings
    lead_first: bool = True
    group_by: str = "none"
    # The same words' hash as made before whitespace was normalised (see letter_text).
    legacy_text_hash: str = ""
    # True when the words are the published version, not body.md as it is now.
    published: bool = False
    # The campaign's own language: body.md, title and closing are in it.
    language: str = "en"
    # The letter in other languages (body.<language>.md, [languages.<language>]).
    other_versions: tuple[LanguageVersion, ...] = ()
    # How a recipient receiving several languages gets them: "one-pdf" or "separate".
    bilingual: str = "one-pdf"
    # Languages letter.toml declares whose version is not published yet (left out of letters).
    unpublished: tuple[str, ...] = ()
    # The IANA zone deadlines are shown in (letter.toml's time_zone); None: the
    # deadline's own UTC offset, as written.
    time_zone: str | None = None

    @property
    def words(self) -> LetterWords:
        """The words organisations consent to, as this definition holds them."""
        return LetterWords(self.title, self.body_source, self.closing, self.lead.name)

    @property
    def default_version(self) -> LanguageVersion:
        """The letter in the campaign's own language."""
        return LanguageVersion(
            self.language,
            self.title,
            self.closing,
            self.body_source,
            self.text_hash,
            self.legacy_text_hash,
        )

    @property
    def versions(self) -> tuple[LanguageVersion, ...]:
        """Every language version, the campaign's own first."""
        return (self.default_version, *self.other_versions)

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages the letter is written in, the campaign's own first."""
        return tuple(v.language for v in self.versions)

    def version(self, language: str) -> LanguageVersion:
        """The version in `language`, or a CampaignError listing the languages there are."""
        for version in self.versions:
            if version.language == language:
                return version
        raise CampaignError(
            f"Campaign {self.slug} has no version in {language!r}. Its languages are: "
            f"{', '.join(self.languages)}."
        )

    def version_of(self, text_hash: str | None) -> LanguageVersion | None:
        """The current version whose words this consent hash agrees to, or None."""
        return next((v for v in self.versions if text_hash in v.hashes), None)

    @property
    def current_hashes(self) -> frozenset[str]:
        """The consent hashes a confirmation may carry and still count for the current text.

        For every language version: its hash, and the hash the same files made before
        whitespace was normalised. A confirmation of any version is a signature of the
        letter; changing one version makes stale only the confirmations of that version.
        `signon.consent.current_hashes` adds earlier texts differing only in whitespace.
        """
        return frozenset().union(*(v.hashes for v in self.versions))

    @property
    def lead_organisation(self) -> str:
        """The lead organisation's name."""
        return self.lead.name

    def recipient(self, key: str) -> Recipient:
        """The recipient with this key, or a CampaignError listing the keys there are."""
        for recipient in self.recipients:
            if recipient.key == key:
                return recipient
        keys = ", ".join(r.key for r in self.recipients)
        raise CampaignError(
            f"Campaign {self.slug} has no recipient {key!r}. Its recipients are: {keys}."
        )
