"""Personal links: made when a message is sent, found again when a person opens one.

A link is a 256-bit token of which only the SHA-256 is stored (tokens.py); an
invitation may have several live links (a reminder's does not kill the first
email's) until `revoke_links` ends them all. Opening a link counts a view and
never changes the invitation's state: deciding is signon.transition's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import CursorResult, bindparam, select, update
from sqlalchemy.orm import Session

from coalitionletter import events, prepared
from coalitionletter.models import Campaign, Invitation, InvitationToken, Organisation, utcnow
from coalitionletter.signon import tokens
from coalitionletter.signon.states import CampaignRef, Current, is_open

# The tables, for the Core statements of the answering path (no ORM loading or flushing).
_INVITATIONS = Invitation.__table__
_TOKENS = InvitationToken.__table__
_CAMPAIGNS = Campaign.__table__
_ORGANISATIONS = Organisation.__table__


@dataclass(frozen=True)
class LinkAccess:
    """What a personal link opens: its invitation, and whether its campaign still takes answers."""

    invitation_id: int
    campaign_id: int
    organisation_id: int
    token_id: int
    issued_at: datetime
    expired: bool
    # The rows themselves, loaded by the same query, for a caller that shows them.
    campaign: Campaign | None = field(default=None, compare=False, repr=False)
    invitation: Invitation | None = field(default=None, compare=False, repr=False)
    organisation: Organisation | None = field(default=None, compare=False, repr=False)


def issue_token(
    session: Session,
    invitation_id: int,
    *,
    outbox_id: int | None = None,
    now: datetime | None = None,
) -> str:
    """Make a new personal link for an invitation; return the raw token (kept nowhere)."""
    raw = tokens.new_token()
    session.add(
        InvitationToken(
            invitation_id=invitation_id,
            token_hash=tokens.token_hash(raw),
            outbox_id=outbox_id,
            issued_at=now or utcnow(),
        )
    )
    session.flush()
    return raw


def revoke_links(
    session: Session, campaign: Campaign, invitation: Invitation, *, actor: str
) -> int:
    """Make every link of an invitation stop working (before a new one is sent)."""
    now = utcnow()
    result = session.execute(
        update(InvitationToken)
        .where(
            InvitationToken.invitation_id == invitation.id,
            InvitationToken.revoked_at.is_(None),
        )
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    events.record_for(
        session,
        campaign,
        kind="links revoked",
        actor=actor,
        organisation_id=invitation.organisation_id,
        invitation_id=invitation.id,
        detail={"links": _rowcount(result)},
    )
    return _rowcount(result)


def _rowcount(result: object) -> int:
    """The rows an UPDATE changed (an ORM session returns its driver's cursor result)."""
    assert isinstance(result, CursorResult)
    return result.rowcount


# Built once: every page view and answer runs it, and building it took half its time.
_LINK_QUERY = (
    select(InvitationToken, Invitation, Campaign, Organisation)
    .join(Invitation, Invitation.id == InvitationToken.invitation_id)
    .join(Campaign, Campaign.id == Invitation.campaign_id)
    .join(Organisation, Organisation.id == Invitation.organisation_id)
    .where(
        InvitationToken.token_hash == bindparam("token_hash"),
        InvitationToken.revoked_at.is_(None),
    )
)


def find_by_token(session: Session, raw: str, now: datetime | None = None) -> LinkAccess | None:
    """The invitation a link opens, or None for a malformed, unknown or revoked token."""
    if not tokens.well_formed(raw):
        return None
    row = session.execute(_LINK_QUERY, {"token_hash": tokens.token_hash(raw)}).one_or_none()
    if row is None:
        return None
    token, invitation, campaign, organisation = row
    return LinkAccess(
        invitation_id=invitation.id,
        campaign_id=campaign.id,
        organisation_id=invitation.organisation_id,
        token_id=token.id,
        issued_at=token.issued_at,
        expired=not is_open(campaign, now),
        campaign=campaign,
        invitation=invitation,
        organisation=organisation,
    )


@dataclass(frozen=True)
class AnswerLink:
    """What answering through a link needs, read by one Core query in the answer's transaction."""

    campaign: CampaignRef
    organisation_id: int
    organisation_name: str
    invitation: Current
    expired: bool
    # The name printed in place of the registry's, once staff approved it.
    display_name: str | None = None


class _AnswerRow(NamedTuple):
    """One row of the answer's query, by name (the query selects in this order)."""

    campaign_id: int
    slug: str
    deadline: datetime | None
    closed_at: datetime | None
    extended_until: datetime | None
    published_hash: str | None
    published_versions: str | None
    organisation_id: int
    organisation_name: str
    invitation_id: int
    state: str
    version: int
    text_hash: str | None
    listing: str
    signer_public: bool
    display_name: str | None


# The column behind each field: the select is built in _AnswerRow's order, so a new
# column cannot shift another (a field without its column fails at import).
_ANSWER_COLUMNS = {
    "campaign_id": _CAMPAIGNS.c.id,
    "slug": _CAMPAIGNS.c.slug,
    "deadline": _CAMPAIGNS.c.deadline,
    "closed_at": _CAMPAIGNS.c.closed_at,
    "extended_until": _CAMPAIGNS.c.extended_until,
    "published_hash": _CAMPAIGNS.c.published_hash,
    "published_versions": _CAMPAIGNS.c.published_versions,
    "organisation_id": _ORGANISATIONS.c.id,
    "organisation_name": _ORGANISATIONS.c.name,
    "invitation_id": _INVITATIONS.c.id,
    "state": _INVITATIONS.c.state,
    "version": _INVITATIONS.c.version,
    "text_hash": _INVITATIONS.c.text_hash,
    "listing": _INVITATIONS.c.listing,
    "signer_public": _INVITATIONS.c.signer_public,
    "display_name": _INVITATIONS.c.display_name,
}

_ANSWER_QUERY = prepared.hot(
    select(*(_ANSWER_COLUMNS[name] for name in _AnswerRow._fields))
    .select_from(_TOKENS)
    .join(_INVITATIONS, _INVITATIONS.c.id == _TOKENS.c.invitation_id)
    .join(_CAMPAIGNS, _CAMPAIGNS.c.id == _INVITATIONS.c.campaign_id)
    .join(_ORGANISATIONS, _ORGANISATIONS.c.id == _INVITATIONS.c.organisation_id)
    .where(_TOKENS.c.token_hash == bindparam("token_hash"), _TOKENS.c.revoked_at.is_(None))
)


def link_for_answer(
    session: Session | events.AnyConnection, token_hash: str, now: datetime | None = None
) -> AnswerLink | None:
    """The campaign, organisation and invitation state a link answers for, or None if unknown
    or revoked; `token_hash` is `tokens.token_hash` of a well-formed token."""
    found = (
        events.core_connection(session)
        .execute(_ANSWER_QUERY, {"token_hash": token_hash})
        .one_or_none()
    )
    if found is None:
        return None
    row = _AnswerRow(*found)
    campaign = CampaignRef(
        row.campaign_id,
        row.slug,
        row.deadline,
        row.closed_at,
        row.extended_until,
        row.published_hash,
        row.published_versions,
    )
    invitation = Current(
        row.invitation_id, row.state, row.version, row.text_hash, row.listing, row.signer_public
    )
    return AnswerLink(
        campaign=campaign,
        organisation_id=row.organisation_id,
        organisation_name=row.organisation_name,
        invitation=invitation,
        expired=not is_open(campaign, now),
        display_name=row.display_name,
    )


def record_view(
    session: Session, campaign: Campaign, access: LinkAccess, *, ip: str | None
) -> bool:
    """Count a human view of the sign-on page (not a state change); log only the first."""
    now = utcnow()
    first = _rowcount(
        session.execute(
            update(Invitation)
            .where(Invitation.id == access.invitation_id, Invitation.viewed_at.is_(None))
            .values(viewed_at=now, view_count=Invitation.view_count + 1)
            .execution_options(synchronize_session=False)
        )
    )
    if first:
        events.record_for(
            session,
            campaign,
            kind="viewed",
            actor="token holder",
            organisation_id=access.organisation_id,
            invitation_id=access.invitation_id,
            ip=ip,
        )
        return True
    session.execute(
        update(Invitation)
        .where(Invitation.id == access.invitation_id)
        .values(view_count=Invitation.view_count + 1)
        .execution_options(synchronize_session=False)
    )
    return False
