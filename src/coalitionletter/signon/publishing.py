"""Publishing: the words organisations see and sign stay fixed until staff publish new ones.

Until a campaign is first published its files are live, as before. `publish`
keeps the text of body.md and letter.toml (its title, closing and lead) as a
version in letter_texts and names it on the campaign; from then on the pages,
the emails, `sign`, `build` and `counts` use that version, and body.md is a
draft that changes nothing for organisations until it is published in turn.

A letter in several languages is published whole: every version (body.md and
each body.<lang>.md) is kept and named on the campaign, the campaign's own
language in `published_hash`, the others in `published_versions`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from coalitionletter import events
from coalitionletter.campaigns import catalogue as campaigns
from coalitionletter.campaigns.definition import CampaignDefinition
from coalitionletter.models import Campaign
from coalitionletter.signon import consent


@dataclass(frozen=True)
class Publication:
    """What publishing did, or would do: the text now, the one before, and what changed."""

    changed: bool
    text_hash: str
    previous_hash: str | None
    changes: str  # paragraph by paragraph, as `reconfirm` shows them; "" on a first publication
    # Every version's hash by language, the campaign's own language included.
    versions: dict[str, str] = field(default_factory=dict)


def _others_json(draft: CampaignDefinition) -> str | None:
    """The other versions' hashes as Campaign.published_versions keeps them."""
    others = {v.language: v.text_hash for v in draft.other_versions}
    return json.dumps(others, sort_keys=True, separators=(",", ":")) if others else None


def _previous(campaign: Campaign, draft: CampaignDefinition) -> dict[str, str | None]:
    """The hash published before for each of the draft's languages (None: none was)."""
    others = json.loads(campaign.published_versions) if campaign.published_versions else {}
    previous: dict[str, str | None] = {draft.language: campaign.published_hash}
    for version in draft.other_versions:
        previous[version.language] = others.get(version.language)
    return previous


def _changes(session: Session, campaign_id: int, previous: str | None, draft: str) -> str:
    earlier = consent.recalled(session, campaign_id, previous)
    return consent.changes(earlier, draft) if earlier is not None else ""


def _all_changes(
    session: Session, campaign: Campaign, draft: CampaignDefinition, previous: dict[str, str | None]
) -> str:
    """What changed in each version; with several languages, each headed by its language."""
    parts = []
    for version in draft.versions:
        before = previous.get(version.language)
        if before == version.text_hash:
            continue
        text = consent.current(draft, version.language).as_text()
        changed = _changes(session, campaign.id, before, text)
        if changed and draft.other_versions:
            changed = f"Version {version.language}:\n{changed}"
        parts.append(changed)
    return "\n\n".join(p for p in parts if p)


def _hashes(draft: CampaignDefinition) -> dict[str, str]:
    return {v.language: v.text_hash for v in draft.versions}


def preview(session: Session, draft: CampaignDefinition) -> Publication:
    """What `publish` would change, changing nothing (the campaign must be registered)."""
    campaign = campaigns.campaign_row(session, draft.slug)
    previous = _previous(campaign, draft)
    return Publication(
        changed=previous != _hashes(draft) or campaign.published_versions != _others_json(draft),
        text_hash=draft.text_hash,
        previous_hash=campaign.published_hash,
        changes=_all_changes(session, campaign, draft, previous),
        versions=_hashes(draft),
    )


def publish(session: Session, draft: CampaignDefinition, *, actor: str) -> Publication:
    """Make the draft (the campaign's files now, every language) the text organisations sign."""
    campaign = campaigns.sync(session, draft)
    previous = _previous(campaign, draft)
    hashes = _hashes(draft)
    if previous == hashes and campaign.published_versions == _others_json(draft):
        return Publication(False, draft.text_hash, campaign.published_hash, "", hashes)
    changes = _all_changes(session, campaign, draft, previous)
    for version in draft.versions:
        consent.remember(session, campaign.id, consent.current(draft, version.language))
    before = campaign.published_hash
    campaign.published_hash = draft.text_hash
    campaign.published_versions = _others_json(draft)
    session.flush()
    detail: dict[str, object] = {"previous": before}
    if draft.other_versions:
        # Which words each language's readers now see, and what each saw before.
        detail["versions"] = hashes
        detail["previous_versions"] = previous
    events.record_for(
        session,
        campaign,
        kind="published",
        actor=actor,
        text_hash=draft.text_hash,
        detail=detail,
    )
    return Publication(True, draft.text_hash, before, changes, hashes)
