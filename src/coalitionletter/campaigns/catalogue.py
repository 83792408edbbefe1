"""Campaigns: the folders under letters/ and their rows in the database.

A campaign lives in files so that its words are reviewed like code; the
database only holds a row per campaign (title, deadline) for invitations to
point at. `load` reads and validates everything once and returns a frozen
`CampaignDefinition`; every error names the file and the line. What is read
where: letter.toml in `letter_toml`, body.md and the consent hash in
`letter_text`, the values they make in `campaign_definition`.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from coalitionletter.campaigns.definition import (
    SLUG_PATTERN,
    CampaignDefinition,
)
from coalitionletter.campaigns.letter_text import (
    BODY_FILE,
)
from coalitionletter.campaigns.letter_toml import (
    LETTER_FILE,
    read_definition,
)
from coalitionletter.errors import CampaignError
from coalitionletter.models import Campaign
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


def load(settings: Settings, slug: str) -> CampaignDefinition:
    """Read and validate one campaign's letter.toml and body.md."""
    directory = campaign_dir(settings, slug)
    if not directory.is_dir():
        known = ", ".join(discover(settings)) or "none"
        raise CampaignError(f"There is no campaign folder {directory}. Campaigns found: {known}.")
    return read_definition(slug, directory, max_body_bytes=settings.max_body_bytes)


def resolve(settings: Settings, slug: str | None) -> CampaignDefinition:
    """Load the named campaign, or the only one in letters/ when no name is given."""
    if slug is not None:
        return load(settings, slug)
    found = discover(settings)
    if len(found) == 1:
        return load(settings, found[0])
    if not found:
        raise CampaignError(
            f"There is no campaign in {settings.letters_dir}. Create letters/<name>/ with "
            f"{LETTER_FILE} and {BODY_FILE}."
        )
    raise CampaignError(
        f"There are {len(found)} campaigns ({', '.join(found)}); name the one you mean."
    )


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
