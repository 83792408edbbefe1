"""Corrected names: what an organisation asks to have printed, and staff's decision on it.

Whoever holds a sign-on link may ask for its organisation's name to be printed
differently ("PEN America" for "PEN American Center"). That is a request, not a
fact: it is kept as proposed, the registry name prints until staff approve it,
and approving or rejecting it is an event in the campaign's trail. A proposal
that could only mislead is refused outright: another organisation's name or the
lead's (by the registry's duplicate key), a name without a letter or digit, one
over the registry's length limit, one with a character the registry refuses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from coalitionletter.campaigns import catalogue as campaigns
from coalitionletter.campaigns.definition import CampaignDefinition
from coalitionletter.errors import NameProposalError, SignOnError, TextError
from coalitionletter.models import NAME_MAX, Invitation, Organisation
from coalitionletter.names import clean_name_and_key, name_key
from coalitionletter.registry.duplicates import find_duplicates
from coalitionletter.registry.organisations import find_organisation
from coalitionletter.signon import states

FIELD = "Name as printed"


def lead_keys(definition: CampaignDefinition) -> frozenset[str]:
    """The duplicate keys of the lead's names: its name, short name, and both together."""
    lead = definition.lead
    keys = {name_key(lead.name)}
    if lead.short_name:
        keys |= {name_key(lead.short_name), name_key(f"{lead.name} ({lead.short_name})")}
    return frozenset(key for key in keys if key)


def check_proposal(
    session: Session,
    definition: CampaignDefinition,
    organisation_id: int,
    registry_name: str,
    proposed: str,
) -> str:
    """The proposed name, checked as printable for this organisation (else NameProposalError)."""
    try:
        name, key = clean_name_and_key(proposed, FIELD, max_length=NAME_MAX)
    except TextError as exc:
        raise NameProposalError(str(exc), exc.reason, **exc.values) from exc
    leads = lead_keys(definition)
    if key in leads and name_key(registry_name) not in leads:
        raise NameProposalError(
            f"{FIELD}: {name!r} is the name of the organisation that leads this letter, so it "
            "cannot be printed for yours. Give your own organisation's name.",
            "lead",
        )
    if find_duplicates(session, name_key=key, exclude_id=organisation_id):
        raise NameProposalError(
            f"{FIELD}: {name!r} is the name of another organisation on our list, so it cannot "
            "be printed for yours. Give your own organisation's name.",
            "another",
        )
    return name


@dataclass(frozen=True)
class Pending:
    """One proposed name awaiting staff: whose, instead of what, by whom, when."""

    organisation_id: int
    slug: str
    registry_name: str
    printed_name: str
    proposed_name: str
    proposed_by: str | None
    proposed_at: datetime | None
    state: str


def pending(session: Session, definition: CampaignDefinition) -> list[Pending]:
    """The campaign's pending proposals, oldest first."""
    campaign = campaigns.campaign_row(session, definition.slug)
    rows = session.execute(
        select(Invitation, Organisation)
        .join(Organisation, Organisation.id == Invitation.organisation_id)
        .where(Invitation.campaign_id == campaign.id, Invitation.proposed_name.is_not(None))
        .order_by(Invitation.proposed_at, Invitation.id)
    )
    return [
        Pending(
            organisation_id=organisation.id,
            slug=organisation.slug,
            registry_name=organisation.name,
            printed_name=invitation.display_name or organisation.name,
            proposed_name=invitation.proposed_name or "",
            proposed_by=invitation.proposed_by,
            proposed_at=invitation.proposed_at,
            state=invitation.state,
        )
        for invitation, organisation in rows
    ]


def pending_for(session: Session, definition: CampaignDefinition, ref: str) -> Pending:
    """The pending proposal of one organisation (by id, slug or exact name). Raises SignOnError."""
    organisation = find_organisation(session, ref)
    for proposal in pending(session, definition):
        if proposal.organisation_id == organisation.id:
            return proposal
    raise SignOnError(
        f"No proposed name is pending for #{organisation.id} {organisation.name} in "
        f"{definition.slug}; nothing changed. See the pending ones with "
        f"`coalitionletter names {definition.slug}`."
    )


def decide(
    session: Session,
    definition: CampaignDefinition,
    ref: str,
    *,
    approve: bool,
    expected: str,
    actor: str,
    reason: str | None = None,
) -> Pending:
    """Approve or reject one organisation's proposal, if it is still `expected`; log it.

    `reason`, when given, is kept in the trail entry with the decision.
    """
    proposal = pending_for(session, definition, ref)
    if approve and proposal.proposed_name == expected:
        # The registry may have changed since it was proposed (an organisation added).
        check_proposal(
            session,
            definition,
            proposal.organisation_id,
            proposal.registry_name,
            proposal.proposed_name,
        )
    campaign = campaigns.campaign_row(session, definition.slug)
    states.settle_proposed_name(
        session,
        campaign,
        proposal.organisation_id,
        approve=approve,
        expected=expected,
        actor=actor,
        detail={"registry_name": proposal.registry_name} | ({"reason": reason} if reason else {}),
    )
    return proposal
