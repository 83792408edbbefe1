"""Campaigns: the folders under letters/ and their rows in the database.

A campaign lives in files so that its words are reviewed like code; the
database only holds a row per campaign (title, deadline) for invitations to
point at. `load` reads and validates everything once and returns a frozen
`CampaignDefinition`; every error names the file and the line. What is read
where: letter.toml in `letter_toml`, body.md and the consent hash in
`letter_text`, the values they make in `campaign_definition`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from coalitionletter.campaigns.definition import (
    SLUG_PATTERN,
    CampaignDefinition,
    LetterWords,
)
from coalitionletter.campaigns.letter_text import (
    BODY_FILE,
)
from coalitionletter.campaigns.letter_toml import (
    LETTER_FILE,
    read_definition,
)
from coalitionletter.errors import CampaignError
from coalitionletter.models import Campaign, LetterText
from coalitionletter.settings import Settings


def campaign_dir(settings: Settings, slug: str) -> Path:
    """The folder of one campaign (not checked to exist)."""
    if not SLUG_PATTERN.match(slug):
        raise CampaignError(
            f"{slug!r} is not a campaign name: use lower-case letters, digits and hyphens, "
            "as in the folder name under letters/."
        )
    return settings.letters_dir / slug


def discover(settings: Settings) -> list[str]:
    """The slugs of the campaigns in letters/ (folders holding a letter.toml), sorted."""
    if not settings.letters_dir.is_dir():
        return []
    return sorted(
        entry.name
        for entry in settings.letters_dir.iterdir()
        if entry.is_dir() and (entry / LETTER_FILE).is_file() and SLUG_PATTERN.match(entry.name)
    )


def load(
    settings: Settings, slug: str, words: LetterWords | Sequence[LetterWords] | None = None
) -> CampaignDefinition:
    """Read and validate one campaign's letter.toml and body files (or take `words` for its text).

    `words`: the published words, one LetterWords per language version.
    """
    directory = campaign_dir(settings, slug)
    if not directory.is_dir():
        known = ", ".join(discover(settings)) or "none"
        raise CampaignError(f"There is no campaign folder {directory}. Campaigns found: {known}.")
    return read_definition(slug, directory, words, max_body_bytes=settings.max_body_bytes)


def published_words(session: Session, slug: str) -> tuple[LetterWords, ...] | None:
    """The words `publish` froze (every language), or None while the campaign's files are live."""
    row = session.execute(
        select(Campaign.id, Campaign.published_hash, Campaign.published_versions).where(
            Campaign.slug == slug
        )
    ).one_or_none()
    if row is None or row.published_hash is None:
        return None
    return published_text(session, row.id, row.published_hash, row.published_versions)


def published_hashes(published_hash: str, published_versions: str | None) -> tuple[str, ...]:
    """The hashes of every published version: the campaign's own language first."""
    others = json.loads(published_versions) if published_versions else {}
    return (published_hash, *(others[code] for code in sorted(others)))


def published_text(
    session: Session, campaign_id: int, published_hash: str, published_versions: str | None
) -> tuple[LetterWords, ...]:
    """The published words of every language version, the campaign's own language first."""
    return tuple(
        words_of(session, campaign_id, text_hash)
        for text_hash in published_hashes(published_hash, published_versions)
    )


def words_of(session: Session, campaign_id: int, text_hash: str) -> LetterWords:
    """The words of a kept version of a campaign's letter (a CampaignError if not kept whole)."""
    source = session.scalar(
        select(LetterText.source).where(
            LetterText.campaign_id == campaign_id, LetterText.text_hash == text_hash
        )
    )
    if source is None:
        raise CampaignError(
            f"The published text {text_hash[:12]} of this campaign is not in the database. "
            "Restore the database from a backup, or publish the text again with "
            "`coalitionletter publish`."
        )
    return LetterWords.from_json(source)


def load_current(settings: Settings, session: Session, slug: str) -> CampaignDefinition:
    """The campaign as organisations see it: letter.toml, and the published words if any.

    Once a campaign has been published, body.md is a draft: it is not read here.
    """
    return load(settings, slug, published_words(session, slug))


def resolve_slug(settings: Settings, slug: str | None) -> str:
    """The named campaign, or the only one in letters/ when no name is given."""
    if slug is not None:
        campaign_dir(settings, slug)  # checks the name
        return slug
    found = discover(settings)
    if len(found) == 1:
        return found[0]
    if not found:
        raise CampaignError(
            f"There is no campaign in {settings.letters_dir}. Create letters/<name>/ with "
            f"{LETTER_FILE} and {BODY_FILE}."
        )
    raise CampaignError(
        f"There are {len(found)} campaigns ({', '.join(found)}); name the one you mean."
    )


def resolve(settings: Settings, slug: str | None) -> CampaignDefinition:
    """Load the named campaign, or the only one in letters/ when no name is given."""
    return load(settings, resolve_slug(settings, slug))


def sync(session: Session, definition: CampaignDefinition) -> Campaign:
    """Create the campaign's row, or bring its title and deadline up to date."""
    row = session.scalar(select(Campaign).where(Campaign.slug == definition.slug))
    if row is None:
        row = Campaign(slug=definition.slug, title=definition.title, deadline=definition.deadline)
        session.add(row)
        session.flush()
        return row
    if row.title != definition.title:
        row.title = definition.title
    # An extension staff set (`reopen --until`) is the deadline while it is set.
    deadline = row.extended_until if row.extended_until is not None else definition.deadline
    if row.deadline != deadline:
        row.deadline = deadline
    session.flush()
    return row


def campaign_row(session: Session, slug: str) -> Campaign:
    """The campaign's row, or a CampaignError saying to run init."""
    row = session.scalar(select(Campaign).where(Campaign.slug == slug))
    if row is None:
        raise not_registered(slug)
    return row


def not_registered(slug: str) -> CampaignError:
    """The error for a campaign whose folder exists but whose row does not."""
    return CampaignError(
        f"The campaign {slug} is not in the database yet. Run `coalitionletter init` "
        "to register it."
    )
