"""Publishing: the words organisations see and sign stay fixed until staff publish new ones.

Until a campaign is first published its files are live, as before. `publish`
keeps the text of body.md and letter.toml (its title, closing and lead) as a
version in letter_texts and names it on the campaign; from then on the pages,
the emails, `sign`, `build` and `counts` use that version, and body.md is a
draft that changes nothing for organisations until it is published in turn.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from coalitionletter import events
from coalitionletter.campaigns import catalogue as campaigns
from coalitionletter.campaigns.definition import CampaignDefinition
from coalitionletter.signon import consent


@dataclass(frozen=True)
class Publication:
    """What publishing did, or would do: the text now, the one before, and what changed."""

    changed: bool
    text_hash: str
    previous_hash: str | None
    changes: str  # paragraph by paragraph, as `reconfirm` shows them; "" on a first publication


def _changes(session: Session, campaign_id: int, previous: str | None, draft: str) -> str:
    earlier = consent.recalled(session, campaign_id, previous)
    return consent.changes(earlier, draft) if earlier is not None else ""


def preview(session: Session, draft: CampaignDefinition) -> Publication:
    """What `publish` would change, changing nothing (the campaign must be registered)."""
    campaign = campaigns.campaign_row(session, draft.slug)
    previous = campaign.published_hash
    text = consent.current(draft).as_text()
    return Publication(
        changed=previous != draft.text_hash,
        text_hash=draft.text_hash,
        previous_hash=previous,
        changes=_changes(session, campaign.id, previous, text),
    )


def publish(session: Session, draft: CampaignDefinition, *, actor: str) -> Publication:
    """Make the draft (the campaign's files now) the text organisations see and sign."""
    campaign = campaigns.sync(session, draft)
    previous = campaign.published_hash
    version = consent.current(draft)
    if previous == draft.text_hash:
        return Publication(False, draft.text_hash, previous, "")
    changes = _changes(session, campaign.id, previous, version.as_text())
    consent.remember(session, campaign.id, version)
    campaign.published_hash = draft.text_hash
    session.flush()
    events.record_for(
        session,
        campaign,
        kind="published",
        actor=actor,
        text_hash=draft.text_hash,
        detail={"previous": previous},
    )
    return Publication(True, draft.text_hash, previous, changes)
