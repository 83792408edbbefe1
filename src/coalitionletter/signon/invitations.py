"""Who gets which message: invitations, reminders, reconfirmations and staff answers.

These functions decide and queue, in the caller's transaction; `sending.deliver`
then sends what is queued. Deciding and sending are apart so that a crash
between them loses nothing and sends nothing twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from coalitionletter.campaigns import catalogue as campaigns
from coalitionletter.campaigns.definition import CampaignDefinition
from coalitionletter.errors import SignOnError
from coalitionletter.mail import message as mail
from coalitionletter.mail import outbox
from coalitionletter.models import (
    Campaign,
    Contact,
    Invitation,
    InvitationState,
    Listing,
    Organisation,
    OutboxMessage,
)
from coalitionletter.signon import consent, links
from coalitionletter.signon import states as signon

INVITED = InvitationState.INVITED.value
# Beyond this many, skipped organisations are counted by reason instead of listed.
SKIPPED_LISTED = 3


@dataclass
class QueueReport:
    """What was queued and what was left out, by organisation."""

    queued: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # "Org: why"
    no_address: list[str] = field(default_factory=list)
    why_none: str | None = None  # when nothing was queued and nobody was skipped: why
    invitation_ids: list[int] = field(default_factory=list)  # whose messages were queued

    def skipped_lines(self) -> list[str]:
        """Who was skipped and why: each by name, or counted by reason when there are many."""
        if len(self.skipped) <= SKIPPED_LISTED:
            return [f"Skipped {line}." for line in self.skipped]
        return [_skipped_summary(self.skipped)]


def _skipped_summary(skipped: list[str]) -> str:
    """'Skipped 68 organisations: 40 already invited, 28 already answered (confirmed).'"""
    from collections import Counter

    reasons = Counter(line.rsplit(": ", 1)[-1] for line in skipped)
    counted = ", ".join(f"{count} {reason}" for reason, count in reasons.most_common())
    return f"Skipped {len(skipped)} organisations: {counted}."


def _organisation_of(session: Session, invitation: Invitation) -> Organisation:
    """The organisation an invitation is for (its foreign key says there is one)."""
    organisation = session.get(Organisation, invitation.organisation_id)
    if organisation is None:
        raise SignOnError(f"Invitation {invitation.id} names no organisation in the registry.")
    return organisation


def _addresses(organisation: Organisation) -> list[str]:
    return _distinct(contact.email for contact in organisation.contacts)


def _distinct(emails: Iterable[str | None]) -> list[str]:
    seen: dict[str, str] = {}
    for email in emails:
        if email and email.lower() not in seen:
            seen[email.lower()] = email
    return list(seen.values())


def _open_campaign(session: Session, definition: CampaignDefinition) -> Campaign:
    campaign = campaigns.sync(session, definition)
    if not signon.is_open(campaign):
        raise SignOnError(
            f"The sign-on for {definition.slug} is closed (deadline passed or closed by staff); "
            "no messages were queued."
        )
    for version in definition.versions:  # every language a message may present
        consent.remember(session, campaign.id, consent.current(definition, version.language))
    return campaign


@dataclass
class _Outgoing:
    """Messages of one kind being queued for a campaign, and the report of what happened."""

    session: Session
    definition: CampaignDefinition
    campaign: Campaign = field(init=False)
    domain: str = field(init=False)
    report: QueueReport = field(default_factory=QueueReport)

    def __post_init__(self) -> None:
        self.campaign = _open_campaign(self.session, self.definition)
        self.domain = mail.sender_address(self.definition)[1].rpartition("@")[2]

    def addresses(self, organisation: Organisation) -> list[str]:
        """Its contact addresses; an organisation without any is noted in the report."""
        addresses = _addresses(organisation)
        if not addresses:
            self.report.no_address.append(organisation.name)
        return addresses

    def queue(
        self,
        invitation: Invitation,
        organisation: Organisation,
        kind: str,
        text_hash: str | None = None,
    ) -> None:
        """Queue one message to every contact address of the organisation.

        `text_hash`: the version the message presents (the campaign's own language's if None).
        """
        outbox.queue(
            self.session,
            self.campaign,
            invitation,
            kind=kind,
            recipients=_addresses(organisation),
            text_hash=text_hash or self.definition.text_hash,
            sender_domain=self.domain,
        )
        self.report.queued.append(organisation.name)
        self.report.invitation_ids.append(invitation.id)


class _Target(NamedTuple):
    """An organisation to invite: its id, name and distinct contact addresses."""

    id: int
    name: str
    addresses: list[str]


def _targets(session: Session, refs: list[str], everyone: bool) -> list[_Target]:
    from coalitionletter.registry.organisations import find_organisation

    if everyone:
        # Two Core queries for all, not ORM objects loaded and tracked one by one.
        emails: dict[int, list[str | None]] = {}
        contacts = select(Contact.organisation_id, Contact.email).order_by(Contact.id)
        for organisation_id, email in session.execute(contacts):
            emails.setdefault(organisation_id, []).append(email)
        query = (
            select(Organisation.id, Organisation.name)
            .where(Organisation.merged_into_id.is_(None))
            .order_by(Organisation.sort_name, Organisation.id)
        )
        return [
            _Target(id_, name, _distinct(emails.get(id_, ())))
            for id_, name in session.execute(query)
        ]
    found: dict[int, _Target] = {}
    for ref in refs:
        organisation = find_organisation(session, ref)
        found.setdefault(
            organisation.id, _Target(organisation.id, organisation.name, _addresses(organisation))
        )
    return list(found.values())


def _has_message(session: Session, invitation_id: int, kind: str, text_hash: str | None) -> bool:
    query = select(OutboxMessage.id).where(
        OutboxMessage.invitation_id == invitation_id, OutboxMessage.kind == kind
    )
    if text_hash is not None:
        query = query.where(OutboxMessage.text_hash == text_hash)
    return session.scalar(query.limit(1)) is not None


def invite(
    session: Session,
    definition: CampaignDefinition,
    *,
    refs: list[str],
    everyone: bool,
    actor: str,
) -> QueueReport:
    """Create invitations and queue one invitation email per organisation not yet asked."""
    if not refs and not everyone:
        raise SignOnError("Name the organisations to invite with --org REF, or pass --all.")
    out = _Outgoing(session, definition)
    existing = {
        organisation_id: (invitation_id, state)
        for organisation_id, invitation_id, state in session.execute(
            select(Invitation.organisation_id, Invitation.id, Invitation.state).where(
                Invitation.campaign_id == out.campaign.id
            )
        )
    }
    asked = outbox.invited_already(session, out.campaign)
    chosen: list[_Target] = []
    for target in _targets(session, refs, everyone):
        invitation_id, state = existing.get(target.id, (None, None))
        if state is not None and state != INVITED:
            out.report.skipped.append(f"{target.name}: already answered ({state})")
        elif invitation_id in asked:
            out.report.skipped.append(f"{target.name}: already invited")
        elif not target.addresses:
            out.report.no_address.append(target.name)
        else:
            chosen.append(target)
    new = [target.id for target in chosen if target.id not in existing]
    created = signon.invite_many(session, out.campaign, new, actor=actor)
    ids = {organisation_id: pair[0] for organisation_id, pair in existing.items()} | created
    outbox.queue_many(
        session,
        out.campaign,
        [(ids[target.id], target.addresses) for target in chosen],
        kind="invite",
        text_hash=definition.text_hash,
        sender_domain=out.domain,
    )
    out.report.queued += [target.name for target in chosen]
    return out.report


def resend(
    session: Session, definition: CampaignDefinition, refs: list[str], *, actor: str
) -> QueueReport:
    """Replace organisations' links: every old link stops working, a new one is queued."""
    from coalitionletter.registry.organisations import find_organisation

    out = _Outgoing(session, definition)
    for ref in refs:
        organisation = find_organisation(session, ref)
        invitation = signon.invitations_of(session, out.campaign).get(organisation.id)
        if invitation is None:
            raise SignOnError(
                f"{organisation.name} has not been invited to {definition.slug}; "
                f"invite it first with: coalitionletter invite {definition.slug} --org "
                f"{organisation.slug}"
            )
        if not out.addresses(organisation):
            continue
        links.revoke_links(session, out.campaign, invitation, actor=actor)
        outbox.drop_queued(session, invitation.id)
        out.queue(invitation, organisation, "invite")
    return out.report


def received(
    session: Session, definition: CampaignDefinition, refs: list[str], *, actor: str
) -> list[str]:
    """Settle messages of unknown outcome as sent, for organisations that say they got them.

    All or nothing: an organisation with no such message stops the whole call.
    """
    from coalitionletter.campaigns.catalogue import campaign_row
    from coalitionletter.registry.organisations import find_organisation

    campaign = campaign_row(session, definition.slug)
    outbox.mark_unknown(session, campaign)  # as a sending run would: left `sending` by a crash
    settled = []
    for ref in refs:
        organisation = find_organisation(session, ref)
        kinds = outbox.settle_received(session, campaign, organisation.id, actor=actor)
        if not kinds:
            raise SignOnError(
                f"{organisation.name} has no message to {definition.slug} whose outcome is "
                "unknown; nothing was changed. `coalitionletter audit "
                f"{definition.slug}` shows what was sent to whom."
            )
        settled.append(f"{organisation.name} ({', '.join(kinds)})")
    return settled


def remind(
    session: Session, definition: CampaignDefinition, *, max_reminders: int, interval_days: int
) -> QueueReport:
    """Queue a reminder for each unanswered organisation that is due one."""
    out = _Outgoing(session, definition)
    due = signon.reminders_due(
        session,
        out.campaign,
        max_reminders=max_reminders,
        interval_days=interval_days,
        last_contact=outbox.contact_times(session, out.campaign),
    )
    for invitation in due:
        organisation = _organisation_of(session, invitation)
        if out.addresses(organisation):
            out.queue(invitation, organisation, "remind")
            signon.note_reminder(session, invitation)
    if not due:
        out.report.why_none = _why_no_reminder(session, out.campaign, max_reminders, interval_days)
    return out.report


def _why_no_reminder(
    session: Session, campaign: Campaign, max_reminders: int, interval_days: int
) -> str:
    """Why no unanswered organisation is due a reminder now, in staff's words."""
    waiting = list(
        session.scalars(
            select(Invitation).where(
                Invitation.campaign_id == campaign.id, Invitation.state == INVITED
            )
        )
    )
    if not waiting:
        return "no organisation is waiting to answer (everyone invited has answered)"
    at_cap = sum(1 for i in waiting if i.reminders_sent >= max_reminders)
    recent = len(waiting) - at_cap
    reasons = []
    if at_cap:
        reasons.append(
            f"{at_cap} already had {max_reminders} reminder(s), the most [reminders] max allows"
        )
    if recent:
        reasons.append(
            f"{recent} were contacted less than {interval_days} day(s) ago "
            "([reminders] interval_days) or their invitation has not been sent yet"
        )
    return f"of the {len(waiting)} organisation(s) that have not answered, " + "; ".join(reasons)


def reconfirm(session: Session, definition: CampaignDefinition) -> QueueReport:
    """Queue a message with the changes to each organisation that confirmed another text.

    Only the confirmations whose version changed are stale: an organisation that
    confirmed the French text is asked about the French text's changes alone.
    """
    out = _Outgoing(session, definition)
    current = consent.current_hashes(session, definition)
    for invitation in signon.stale_confirmations(session, out.campaign, current):
        organisation = _organisation_of(session, invitation)
        text_hash = _same_version_now(session, definition, out.campaign.id, invitation.text_hash)
        if _has_message(session, invitation.id, "reconfirm", text_hash):
            out.report.skipped.append(f"{organisation.name}: already asked to reconfirm this text")
            continue
        if out.addresses(organisation):
            out.queue(invitation, organisation, "reconfirm", text_hash)
    return out.report


def _same_version_now(
    session: Session, definition: CampaignDefinition, campaign_id: int, agreed: str | None
) -> str:
    """The current hash of the language version an earlier confirmation was given to.

    A version no longer in the letter, or a text never kept, falls back to the
    campaign's own language.
    """
    language = consent.language_of(session, campaign_id, agreed) or definition.language
    if language not in definition.languages:
        language = definition.language
    return definition.version(language).text_hash


@dataclass(frozen=True)
class StaffAnswer:
    """An answer an organisation gave another way (an email reply, a call)."""

    action: str  # confirm, decline, withdraw
    signer_name: str | None = None
    signer_title: str | None = None
    display_name: str | None = None
    listing: str = Listing.PUBLIC.value
    # The signer agreed to appear on the public list; never assumed, as on the sign-on page.
    signer_public: bool = False
    reason: str | None = None
    # When the written answer arrived (`--received-on`); it may then be taken after closing.
    received_at: datetime | None = None
    # The language version confirmed (None: the campaign's own language).
    language: str | None = None


def record_staff_answer(
    session: Session,
    definition: CampaignDefinition,
    ref: str,
    answer: StaffAnswer,
    *,
    staff_name: str,
) -> tuple[str, signon.Outcome]:
    """Record an answer staff received for an organisation; logged under the staff name."""
    from coalitionletter.registry.organisations import find_organisation

    campaign = campaigns.sync(session, definition)
    organisation = find_organisation(session, ref)
    version = definition.version(answer.language or definition.language)
    confirm = answer.action == "confirm"
    fields: dict[str, str | bool | None] = {}
    if answer.signer_public and not confirm:
        raise SignOnError(
            "Only a confirmation can put its signer on the public list; a decline or a "
            "withdrawal names no signer there. Nothing was recorded."
        )
    if confirm:
        if not (answer.signer_name and answer.signer_title):
            raise SignOnError(
                "A confirmation needs the person who gave it: pass --signer NAME and --title TITLE."
            )
        # Recorded as the sign-on page records it: the choice is in the trail entry.
        fields = {"listing": answer.listing, "signer_public": answer.signer_public}
        if answer.display_name:
            from coalitionletter.signon.corrections import check_proposal

            # Staff typed it, so it prints at once (the trail names who), once checked as
            # an organisation's proposal is: never another's name or the lead's.
            fields["display_name"] = check_proposal(
                session, definition, organisation.id, organisation.name, answer.display_name
            )
        consent.remember(session, campaign.id, consent.current(definition, answer.language))
    if answer.action == "decline":
        fields = {"decline_reason": answer.reason}
    fields |= {"signer_name": answer.signer_name, "signer_title": answer.signer_title}
    outcome = signon.transition(
        session,
        campaign,
        organisation.id,
        answer.action,
        actor=signon.staff_actor(staff_name),
        text_hash=version.text_hash if answer.action == "confirm" else None,
        fields={k: v for k, v in fields.items() if v is not None},
        detail={"via": "staff", **({"language": version.language} if confirm else {})},
        answered_at=answer.received_at,
    )
    return organisation.name, outcome
