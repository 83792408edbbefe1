"""Removing an organisation from the registry, and merging a duplicate into the one kept.

Both touch signatures, so both refuse what would silently drop or double one:
removing a signatory needs --force, and merging two organisations that have
both answered the same campaign is refused until one answer is settled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from coalitionletter import events
from coalitionletter.catalogs import N_
from coalitionletter.errors import RegistryError
from coalitionletter.models import (
    Campaign,
    Contact,
    Invitation,
    InvitationState,
    Organisation,
    utcnow,
)
from coalitionletter.registry.duplicates import label
from coalitionletter.registry.organisations import find_organisation
from coalitionletter.signon.states import outcome_of, removed_outcome


def _record_change(
    session: Session, organisation: Organisation, kind: str, actor: str, detail: dict[str, Any]
) -> None:
    events.record(
        session,
        chain=events.REGISTRY_CHAIN,
        kind=kind,
        actor=actor,
        organisation_id=organisation.id,
        detail={"name": organisation.name, **detail},
    )


def _as_found(invitation: Invitation) -> dict[str, Any]:
    """The invitation as a change found it, for its event's outcome."""
    return outcome_of(
        invitation.organisation_id,
        invitation.state,
        invitation.listing,
        invitation.text_hash,
        invitation.version,
        signer_public=invitation.signer_public,
    )


# --- remove ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RemovalPlan:
    """What removing an organisation would take with it."""

    organisation_id: int
    label: str
    answers: list[tuple[str, str]] = field(default_factory=list)  # (campaign slug, state)

    @property
    def signed(self) -> list[str]:
        """The campaigns this organisation has confirmed (signed)."""
        return [slug for slug, state in self.answers if state == InvitationState.CONFIRMED]

    def refusal(self, force: bool) -> RegistryError | None:
        """Why the removal must not go ahead (a signatory, not forced), or None."""
        if not self.signed or force:
            return None
        return RegistryError(
            f"{self.label} has signed {', '.join(self.signed)}; removing it would take its "
            "signature off the letter. Nothing was removed. If that is really meant, run "
            "again with --force."
        )


def removal_plan(session: Session, ref: str) -> RemovalPlan:
    """Which organisation `remove` would delete, and its answers to campaigns."""
    organisation = find_organisation(session, ref)
    answers = session.execute(
        select(Campaign.slug, Invitation.state)
        .join(Campaign, Campaign.id == Invitation.campaign_id)
        .where(Invitation.organisation_id == organisation.id)
        .order_by(Campaign.slug)
    ).all()
    return RemovalPlan(organisation.id, label(organisation), [(s, st) for s, st in answers])


def remove(session: Session, ref: str, *, force: bool, actor: str) -> str:
    """Delete an organisation, its contacts and invitations; refuse a signatory unless forced."""
    plan = removal_plan(session, ref)
    refusal = plan.refusal(force)
    if refusal is not None:
        raise refusal
    organisation = session.get(Organisation, plan.organisation_id)
    assert organisation is not None
    for invitation, slug in session.execute(
        select(Invitation, Campaign.slug)
        .join(Campaign, Campaign.id == Invitation.campaign_id)
        .where(Invitation.organisation_id == organisation.id)
    ):
        events.record(
            session,
            chain=events.campaign_chain(slug),
            kind="invitation_removed",
            actor=actor,
            campaign_id=invitation.campaign_id,
            organisation_id=organisation.id,
            invitation_id=invitation.id,
            detail={"state": invitation.state, "reason": "organisation removed from registry"},
            outcome=removed_outcome(_as_found(invitation)),
        )
    session.execute(delete(Invitation).where(Invitation.organisation_id == organisation.id))
    session.execute(
        update(Organisation)
        .where(Organisation.merged_into_id == organisation.id)
        .values(merged_into_id=None)
    )
    _record_change(session, organisation, "organisation_removed", actor, {"answers": plan.answers})
    session.delete(organisation)
    session.flush()
    extra = f" and its answers to {len(plan.answers)} campaign(s)" if plan.answers else ""
    return f"Removed {plan.label}{extra}."


# --- merge -----------------------------------------------------------------------------------


@dataclass
class MergeResult:
    """What `merge` moved from the duplicate into the organisation kept."""

    kept: str
    merged: str
    contacts_moved: int = 0
    invitations_moved: list[str] = field(default_factory=list)
    invitations_left: list[str] = field(default_factory=list)


def _invitations_by_campaign(session: Session, organisation_id: int) -> dict[int, Invitation]:
    rows = session.scalars(select(Invitation).where(Invitation.organisation_id == organisation_id))
    return {invitation.campaign_id: invitation for invitation in rows}


def _merge_conflicts(
    session: Session, kept: dict[int, Invitation], other: dict[int, Invitation]
) -> list[str]:
    conflicts = []
    for campaign_id, invitation in other.items():
        if campaign_id in kept and invitation.state == InvitationState.CONFIRMED:
            campaign = session.get(Campaign, campaign_id)
            slug = campaign.slug if campaign else str(campaign_id)
            conflicts.append(f"{slug} (kept: {kept[campaign_id].state}, other: confirmed)")
    return conflicts


@dataclass
class MergePlan:
    """What merging `other` into `kept` would do, worked out without changing anything."""

    kept: Organisation
    other: Organisation
    contacts_moving: list[Contact] = field(default_factory=list)
    invitations_moving: list[tuple[Invitation, str]] = field(default_factory=list)
    invitations_left: list[str] = field(default_factory=list)

    def contacts_after(self) -> list[Contact]:
        """The kept organisation's contacts once merged: its own, then those that move."""
        return [*self.kept.contacts, *self.contacts_moving]

    def answers_moving(self) -> list[str]:
        """Each answer that moves to the kept organisation, as `campaign (state)`."""
        return [f"{slug} ({invitation.state})" for invitation, slug in self.invitations_moving]


def plan_merge(session: Session, keep_ref: str, other_ref: str) -> MergePlan:
    """What `merge` would move; raise RegistryError for a merge that must not happen."""
    kept = find_organisation(session, keep_ref)
    other = find_organisation(session, other_ref)
    if kept.id == other.id:
        raise RegistryError(
            N_("%(organisation)s cannot be merged into itself.", organisation=label(kept))
        )
    for organisation in (kept, other):
        if organisation.merged_into_id is not None:
            raise RegistryError(
                N_(
                    "%(organisation)s was already merged into #%(survivor)s. Merge with that "
                    "organisation instead.",
                    organisation=label(organisation),
                    survivor=organisation.merged_into_id,
                )
            )
    kept_answers = _invitations_by_campaign(session, kept.id)
    other_answers = _invitations_by_campaign(session, other.id)
    conflicts = _merge_conflicts(session, kept_answers, other_answers)
    if conflicts:
        raise RegistryError(
            N_(
                "Both organisations have answered %(campaigns)s; merging would drop or double "
                "%(name)s's signature. Nothing was merged. Run `org merge %(other)s %(kept)s` "
                "to keep the other one, or settle one answer first.",
                campaigns=", ".join(conflicts),
                name=repr(other.name),
                other=other.slug,
                kept=kept.slug,
            )
        )
    plan = MergePlan(kept, other)
    known_emails = {c.email_key for c in kept.contacts if c.email_key}
    plan.contacts_moving = [
        c for c in other.contacts if not (c.email_key and c.email_key in known_emails)
    ]
    for campaign_id, invitation in other_answers.items():
        campaign = session.get(Campaign, campaign_id)
        slug = campaign.slug if campaign else str(campaign_id)
        if campaign_id in kept_answers:
            plan.invitations_left.append(f"{slug} ({invitation.state})")
        else:
            plan.invitations_moving.append((invitation, slug))
    return plan


def merge(session: Session, keep_ref: str, other_ref: str, *, actor: str) -> MergeResult:
    """Fold organisation B into A: move B's contacts and answers, mark B merged into A."""
    plan = plan_merge(session, keep_ref, other_ref)
    kept, other = plan.kept, plan.other
    result = MergeResult(kept=label(kept), merged=label(other))
    result.invitations_left = list(plan.invitations_left)
    for contact in plan.contacts_moving:
        other.contacts.remove(contact)
        kept.contacts.append(contact)
        result.contacts_moved += 1
    for invitation, slug in plan.invitations_moving:
        found = _as_found(invitation)
        invitation.organisation_id = kept.id
        result.invitations_moved.append(f"{slug} ({invitation.state})")
        events.record(
            session,
            chain=events.campaign_chain(slug),
            kind="invitation_moved",
            actor=actor,
            campaign_id=invitation.campaign_id,
            organisation_id=kept.id,
            invitation_id=invitation.id,
            detail={"from_organisation_id": other.id, "reason": "organisations merged"},
            outcome=outcome_of(
                kept.id,
                invitation.state,
                invitation.listing,
                invitation.text_hash,
                invitation.version,
                found=found,
                signer_public=invitation.signer_public,
            ),
        )
    other.merged_into_id = kept.id
    other.updated_at = kept.updated_at = utcnow()
    session.flush()
    detail = {
        "kept_id": kept.id,
        "merged_id": other.id,
        "merged_name": other.name,
        "contacts_moved": result.contacts_moved,
        "invitations_moved": result.invitations_moved,
    }
    _record_change(session, kept, "organisation_merged", actor, detail)
    return result
