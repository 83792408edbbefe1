"""The SQL aggregates behind the counts: every number counted by the database.

Every number comes from one GROUP BY query with filtered COUNTs (two of them
by subtracting counted ones), so a campaign with 100,000 invitations counts in
a fraction of a second; no row is loaded into Python to be counted.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, or_, select
from sqlalchemy.orm import Session

from coalitionletter.errors import CampaignError, ReportError
from coalitionletter.models import (
    Campaign,
    Invitation,
    InvitationState,
    Listing,
    MessageState,
    Organisation,
    OutboxMessage,
    utcnow,
)
from coalitionletter.reports.count_values import CampaignInfo, LetterNow, StateCounts, days_left


def _campaign_info(campaign: Any, now: datetime, letter: LetterNow | None = None) -> CampaignInfo:
    """What a count says about a campaign, from its row (or any object with its columns).

    With `letter`, the title and deadline are the files' as they are now: an edit to
    letter.toml counts without a sync. A deadline staff extended still wins.
    """
    title, deadline, zone = campaign.title, campaign.deadline, None
    if letter is not None:
        title, zone = letter.title, letter.time_zone
        deadline = campaign.extended_until if campaign.extended_until else letter.deadline
    closed = campaign.closed_at is not None and campaign.closed_at <= now
    passed = deadline is not None and deadline <= now
    return CampaignInfo(
        id=campaign.id,
        slug=campaign.slug,
        title=title,
        deadline=deadline,
        days_left=days_left(deadline, now, zone),
        is_open=not (closed or passed),
        time_zone=zone,
    )


# The columns a count needs of a campaign, read as a plain row rather than an ORM object.
_CAMPAIGN_COLUMNS = (
    Campaign.id,
    Campaign.slug,
    Campaign.title,
    Campaign.deadline,
    Campaign.closed_at,
    Campaign.extended_until,
)


def find_campaign(
    session: Session, slug: str, now: datetime | None = None, letter: LetterNow | None = None
) -> CampaignInfo:
    """The campaign registered under `slug`, or a CampaignError naming those that exist."""
    row = session.execute(select(*_CAMPAIGN_COLUMNS).where(Campaign.slug == slug)).one_or_none()
    if row is not None:
        return _campaign_info(row, now or utcnow(), letter)
    known = session.scalars(select(Campaign.slug).order_by(Campaign.slug)).all()
    listing = ", ".join(known) if known else "none yet"
    raise CampaignError(
        f"There is no campaign {slug!r} in the database (campaigns: {listing}). "
        "Check the name, or run `coalitionletter init` to register the campaigns in letters/."
    )


def all_emails_failed() -> ColumnElement[bool]:
    """True for an invitation with at least one email, every one of which failed."""
    failed = OutboxMessage.state == MessageState.FAILED.value
    emails = select(OutboxMessage.id).where(OutboxMessage.invitation_id == Invitation.id)
    # Correlated EXISTS on ix_outbox_invitation_id: SQLite evaluates them only for the
    # rows the conditions before them leave (unanswered, unopened), which beat a
    # GROUP BY over the whole outbox fivefold at 100,000 invitations.
    return and_(emails.where(failed).exists(), ~emails.where(~failed).exists())


# The texts each campaign's confirmations count as current for, by campaign id: the hash of
# the text organisations sign now (and any older hash of the same words, see letter_text).
CurrentTexts = Mapping[int, Collection[str]]


def _stale(current: CurrentTexts) -> ColumnElement[bool]:
    """True for an invitation whose agreed text is not its campaign's current one.

    A campaign whose current text is not known (its files cannot be read) counts none as
    stale: the caller says the split is unknown.
    """
    agreed = func.coalesce(Invitation.text_hash, "")
    per_campaign = [
        and_(Invitation.campaign_id == campaign_id, agreed.not_in(sorted(hashes)))
        for campaign_id, hashes in current.items()
        if hashes
    ]
    return or_(*per_campaign) if per_campaign else false()


def _count_columns(current: CurrentTexts) -> list[ColumnElement[int]]:
    """The counts SQL computes; `_state_counts` derives the three others from them.

    not_viewed (not_answered - viewed - email_failed) and confirmed_public
    (confirmed - confirmed_governments_only) are left to subtraction because
    viewed_at is either set or not and the listing either is governments-only or
    not: the same numbers, with one of the two all-failed probes per unanswered
    row and two filtered COUNTs fewer (the count over 100,000 invitations
    took a quarter longer with them). The states are still counted one by one, so
    a state this version does not know still fails the invited sum.
    """
    unanswered = Invitation.state == InvitationState.INVITED.value
    confirmed = Invitation.state == InvitationState.CONFIRMED.value
    governments_only = func.coalesce(Invitation.listing, "") == Listing.GOVERNMENTS_ONLY.value
    conditions = {
        "not_answered": unanswered,
        "viewed": and_(unanswered, Invitation.viewed_at.is_not(None)),
        "email_failed": and_(unanswered, Invitation.viewed_at.is_(None), all_emails_failed()),
        "confirmed": confirmed,
        "confirmed_governments_only": and_(confirmed, governments_only),
        "confirmed_stale": and_(confirmed, _stale(current)),
        "declined": Invitation.state == InvitationState.DECLINED.value,
        "withdrawn": Invitation.state == InvitationState.WITHDRAWN.value,
    }
    # COUNT(id): an outer-joined campaign with no invitation counts 0, not 1. The
    # filtered ones count rows (a NULL row never passes a filter), which SQLite
    # does without reading a column.
    columns: list[ColumnElement[int]] = [func.count(Invitation.id).label("invited")]
    columns += [func.count().filter(condition).label(key) for key, condition in conditions.items()]
    return columns


def _state_counts(row: Any) -> StateCounts:
    counts = {key: int(getattr(row, key)) for key in SQL_KEYS}
    counts["not_viewed"] = counts["not_answered"] - counts["viewed"] - counts["email_failed"]
    counts["confirmed_public"] = counts["confirmed"] - counts["confirmed_governments_only"]
    counts["confirmed_current"] = counts["confirmed"] - counts["confirmed_stale"]
    return StateCounts(**counts)


SQL_KEYS = (
    "invited",
    "not_answered",
    "viewed",
    "email_failed",
    "confirmed",
    "confirmed_governments_only",
    "confirmed_stale",
    "declined",
    "withdrawn",
)


def checked(counts: StateCounts, where: str) -> StateCounts:
    """The counts, or a ReportError when they do not add up (a state this version does not know)."""
    problems = counts.problems()
    if problems:
        raise ReportError(
            f"The counts for {where} do not add up ({'; '.join(problems)}): some invitations "
            "are in a state or listing this version does not know. Upgrade coalitionletter "
            "or report this; nothing was changed."
        )
    return counts


def totals(session: Session, campaign: CampaignInfo, current: Collection[str]) -> StateCounts:
    """The campaign's counts, checked to add up; `current`: the hashes of its current text."""
    columns = _count_columns({campaign.id: current})
    query = select(*columns).where(Invitation.campaign_id == campaign.id)
    return checked(_state_counts(session.execute(query).one()), campaign.slug)


def grouped(
    session: Session, campaign: CampaignInfo, column: Any, current: Collection[str]
) -> list[tuple[str | None, StateCounts]]:
    """The campaign's counts for each value of an organisation's column (country, type)."""
    query = (
        select(column.label("key"), *_count_columns({campaign.id: current}))
        .join(Organisation, Organisation.id == Invitation.organisation_id)
        .where(Invitation.campaign_id == campaign.id)
        .group_by(column)
    )
    return [(row.key, _state_counts(row)) for row in session.execute(query)]


def per_campaign(
    session: Session, now: datetime, letters: Mapping[str, LetterNow]
) -> list[tuple[CampaignInfo, StateCounts]]:
    """Every campaign with its totals, by slug, from one grouped query.

    `letters`: what each campaign's files say now, by slug (see `LetterNow`).
    """
    ids = {slug: id_ for slug, id_ in session.execute(select(Campaign.slug, Campaign.id))}
    by_id = {ids[slug]: letter.hashes for slug, letter in letters.items() if slug in ids}
    query = (
        select(*_CAMPAIGN_COLUMNS, *_count_columns(by_id))
        .select_from(Campaign)
        .outerjoin(Invitation, Invitation.campaign_id == Campaign.id)
        .group_by(Campaign.id)
        .order_by(Campaign.slug)
    )
    return [
        (_campaign_info(row, now, letters.get(row.slug)), checked(_state_counts(row), row.slug))
        for row in session.execute(query)
    ]
