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

    def as_json(self) -> str:
        """The parts as canonical JSON, as letter_texts.source keeps them."""
        return json.dumps(
            {"title": self.title, "body": self.body, "closing": self.closing, "lead": self.lead},
            ensure_ascii=False,
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> LetterWords:
        """The parts from letter_texts.source."""
        values = json.loads(text)
        return cls(values["title"], values["body"], values["closing"], values["lead"])


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
    # The letter's language (letter.toml `language`): emails fall back to it.
    language: str = "en"
    # The IANA zone deadlines are shown in (letter.toml's time_zone); None: the
    # deadline's own UTC offset, as written.
    time_zone: str | None = None

    @property
    def words(self) -> LetterWords:
        """The words organisations consent to, as this definition holds them."""
        return LetterWords(self.title, self.body_source, self.closing, self.lead.name)

    @property
    def current_hashes(self) -> frozenset[str]:
        """The consent hashes a confirmation may carry and still count for the current text.

        The hash, and the hash the same files made before whitespace was normalised.
        `signon.consent.current_hashes` adds earlier texts differing only in whitespace.
        """
        return frozenset(h for h in (self.text_hash, self.legacy_text_hash) if h)

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
