"""The invitation state machine: the one way an organisation's sign-on changes.

Every change goes through `transition`, which makes one atomic conditional
UPDATE (the row changes only if it is still in a state the action may leave)
and appends the event in the same transaction. Two decisions racing for one
invitation therefore end in one state and one consistent log, on SQLite and on
PostgreSQL's READ COMMITTED alike. Staff settling a proposed name
(`settle_proposed_name`) changes no state but is built the same way: one
conditional UPDATE and its chained event, in one transaction.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from coalitionletter import bulk_sql, events, prepared
from coalitionletter.errors import SignOnError
from coalitionletter.models import (
    Base,
    Campaign,
    Invitation,
    InvitationState,
    Listing,
    utcnow,
)

INVITED = InvitationState.INVITED.value
CONFIRMED = InvitationState.CONFIRMED.value
DECLINED = InvitationState.DECLINED.value
WITHDRAWN = InvitationState.WITHDRAWN.value

# action -> (states it may start from, state it ends in); None is "no invitation yet".
TRANSITIONS: dict[str, tuple[frozenset[str | None], str]] = {
    "invite": (frozenset({None}), INVITED),
    "confirm": (frozenset({None, INVITED, DECLINED, WITHDRAWN, CONFIRMED}), CONFIRMED),
    "decline": (frozenset({None, INVITED, DECLINED}), DECLINED),
    "withdraw": (frozenset({CONFIRMED, WITHDRAWN}), WITHDRAWN),
    # How a signed organisation is listed, changed without withdrawing: the state stays.
    "change_listing": (frozenset({CONFIRMED}), CONFIRMED),
}
# The table, for the Core statements of the answering path (no ORM loading or flushing).
_INVITATIONS = Base.metadata.tables[Invitation.__tablename__]
# Fields an action may set on the invitation besides its state. A confirmation's
# `proposed_name` is kept as a proposal (with who and when); `display_name` may only be
# kept or cleared back to the registry name by a decision: staff approve a new one.
DECISION_FIELDS = frozenset(
    {
        "signer_name",
        "signer_title",
        "signer_public",
        "display_name",
        "proposed_name",
        "listing",
        "decline_reason",
    }
)
# What `change_listing` may change: how the organisation, and its signer, are listed.
LISTING_FIELDS = frozenset({"listing", "signer_public"})


class CampaignRef(NamedTuple):
    """What deciding needs of a campaign; `transition` takes it in place of a Campaign row."""

    id: int
    slug: str
    deadline: datetime | None
    closed_at: datetime | None
    extended_until: datetime | None = None
    published_hash: str | None = None
    # The other language versions' published hashes, as JSON (Campaign.published_versions).
    published_versions: str | None = None


class Current(NamedTuple):
    """An invitation's state as the caller's transaction has just read it."""

    id: int
    state: str
    version: int
    text_hash: str | None
    listing: str
    signer_public: bool = False


_CURRENT = prepared.hot(
    select(
        _INVITATIONS.c.id,
        _INVITATIONS.c.state,
        _INVITATIONS.c.version,
        _INVITATIONS.c.text_hash,
        _INVITATIONS.c.listing,
        _INVITATIONS.c.signer_public,
    ).where(
        _INVITATIONS.c.campaign_id == bindparam("campaign_id"),
        _INVITATIONS.c.organisation_id == bindparam("organisation_id"),
    )
)

# The atomic step of a transition: the row changes only if nobody changed it since it was
# read. Built once; the columns to set come with the parameters (the SET clause follows them).
_CONDITIONAL_UPDATE = prepared.hot(
    update(_INVITATIONS)
    .where(
        _INVITATIONS.c.id == bindparam("if_id"),
        _INVITATIONS.c.version == bindparam("if_version"),
    )
    .values(version=_INVITATIONS.c.version + 1)
)


@dataclass(frozen=True)
class Outcome:
    """What a transition did: the state now, the event kind, and whether anything changed."""

    invitation_id: int
    state: str
    event: str | None
    changed: bool


def outcome_of(
    organisation_id: int,
    state: str,
    listing: str,
    text_hash: str | None,
    version: int,
    *,
    found: Mapping[str, Any] | None = None,
    signer_public: bool | None = None,
) -> dict[str, Any]:
    """What an event binds of the invitation it changed: the fields as the change left them.

    `audit --verify`, `build` and `export` replay these and compare the last with the row,
    so a state, listing, agreed text or organisation changed behind the program's back
    is caught. `signer_public` (bound since 0009) is left out where the caller does not
    know it, and the audit compares it only where an entry binds it. `found` is the
    invitation as the change read it (an `outcome_of` itself);
    it must equal the previous outcome, so a change made by hand between two entries,
    or an entry removed from between them, is caught too, even after a later change.
    """
    outcome: dict[str, Any] = {
        "organisation_id": organisation_id,
        "state": state,
        "listing": listing,
        "text_hash": text_hash,
        "version": version,
    }
    if signer_public is not None:
        outcome["signer_public"] = bool(signer_public)
    if found is not None:
        outcome["found"] = dict(found)
    return outcome


def removed_outcome(found: Mapping[str, Any]) -> dict[str, Any]:
    """The outcome of an event that deletes its invitation: no row may remain."""
    return {"state": None, "found": dict(found)}


def is_open(campaign: Campaign | CampaignRef, now: datetime | None = None) -> bool:
    """True while a campaign accepts decisions (before its deadline, not closed)."""
    now = now or utcnow()
    if campaign.closed_at is not None and campaign.closed_at <= now:
        return False
    return campaign.deadline is None or now < campaign.deadline


def closed_by_staff(campaign: Campaign | CampaignRef, now: datetime | None = None) -> bool:
    """True once staff have closed the sign-on (`close`), whatever the deadline."""
    return campaign.closed_at is not None and campaign.closed_at <= (now or utcnow())


def effective_deadline(
    file_deadline: datetime | None, extended_until: datetime | None
) -> datetime | None:
    """The deadline in force: one staff set with `reopen --until`, else letter.toml's."""
    return extended_until if extended_until is not None else file_deadline


def _when(moment: datetime) -> str:
    """A moment as messages write it (imported here: the answering path rarely needs it)."""
    from coalitionletter.dates import format_deadline

    return format_deadline(moment, None)


def _check_open(
    campaign: Campaign | CampaignRef, now: datetime, answered_at: datetime | None
) -> None:
    """Refuse a decision once the sign-on has closed, unless it was given while it was open."""
    if answered_at is not None and answered_at > now:
        raise SignOnError(
            f"The answer cannot have been received at {_when(answered_at)}, "
            "which is in the future; nothing was recorded."
        )
    if is_open(campaign, now):
        return
    if answered_at is None:
        raise SignOnError(
            f"The sign-on for {campaign.slug} is closed; answers can no longer be changed. "
            "If the organisation answered in writing before the deadline, record it with "
            "--received-on DATE; or reopen the sign-on with `coalitionletter reopen`."
        )
    if not is_open(campaign, answered_at):
        raise SignOnError(
            f"The sign-on for {campaign.slug} was already closed at "
            f"{_when(answered_at)}, when this answer was received; "
            "nothing was recorded. If it arrived earlier, give that time; otherwise reopen the "
            f"sign-on (coalitionletter reopen {campaign.slug} --until DATETIME)."
        )


def _event_kind(
    action: str, before: str | None, before_hash: str | None, text_hash: str | None
) -> str:
    if action == "change_listing":
        return "listing changed"
    if action == "confirm" and before == CONFIRMED:
        return "reconfirmed" if before_hash != text_hash else ""
    if action == "decline" and before == DECLINED:
        return ""
    if action == "withdraw" and before == WITHDRAWN:
        return ""
    return {"invite": "invited", "confirm": "confirmed", "decline": "declined"}.get(
        action, "withdrawn"
    )


def _values_for(
    action: str,
    text_hash: str | None,
    fields: Mapping[str, Any],
    now: datetime,
    *,
    decided_at: datetime | None = None,
) -> dict[str, Any]:
    unknown = set(fields) - DECISION_FIELDS
    if unknown:
        raise SignOnError(f"Unknown decision fields: {', '.join(sorted(unknown))}.")
    values: dict[str, Any] = {"state": TRANSITIONS[action][1], "updated_at": now}
    if action == "invite":
        values["invited_at"] = now
        return values
    if action == "change_listing":
        # Not a new answer: the consent (its text, signer and day) stays as given.
        if set(fields) - LISTING_FIELDS:
            raise SignOnError("A change of listing changes only the listing and signer_public.")
        values["listing"] = fields.get("listing") or Listing.PUBLIC.value
        values["signer_public"] = bool(fields.get("signer_public"))
        return values
    values["decided_at"] = decided_at or now  # an answer received earlier: when it was given
    if action == "confirm":
        values["text_hash"] = text_hash
        values["listing"] = fields.get("listing") or Listing.PUBLIC.value
        # Published only when the signer said so on this confirmation (never carried over).
        values["signer_public"] = bool(fields.get("signer_public"))
        values["decline_reason"] = None
    for name in ("signer_name", "signer_title", "display_name", "decline_reason"):
        if name in fields:
            values[name] = fields[name]
    if "proposed_name" in fields:
        proposed = fields["proposed_name"] or None
        values["proposed_name"] = proposed
        values["proposed_by"] = fields.get("signer_name") if proposed else None
        values["proposed_at"] = now if proposed else None
    return values


def _insert(
    session: Session | events.AnyConnection,
    campaign: Campaign | CampaignRef,
    organisation_id: int,
    values: dict[str, Any],
) -> int | None:
    """The id of a new invitation, or None when another writer created it in the meantime."""
    row = {
        "campaign_id": campaign.id,
        "organisation_id": organisation_id,
        "listing": values.pop("listing", Listing.PUBLIC.value),
        "version": 0,
        **values,
    }
    try:
        if not isinstance(session, Session):
            with session.begin_nested():
                key = session.execute(insert(_INVITATIONS), row).inserted_primary_key
                assert key is not None  # the table has a primary key
                return key[0]
        with session.begin_nested():
            invitation = Invitation(**row)
            session.add(invitation)
    except IntegrityError:
        return None
    return invitation.id


def transition(
    session: Session | events.AnyConnection,
    campaign: Campaign | CampaignRef,
    organisation_id: int,
    action: str,
    *,
    actor: str,
    text_hash: str | None = None,
    ip: str | None = None,
    fields: Mapping[str, Any] | None = None,
    detail: Mapping[str, Any] | None = None,
    now: datetime | None = None,
    current: Current | None = None,
    answered_at: datetime | None = None,
) -> Outcome:
    """Apply one action to an organisation's invitation, atomically, and log it.

    `answered_at` is when an answer staff record arrived (`sign --received-on`): one
    received while the sign-on was open is taken after it closed, and the trail says when.

    `current` is the invitation as this transaction has just read it, if the
    caller has (the answering path reads it with the link); the conditional
    UPDATE still compares its version, and a lost race reads the row again.
    `session` may be a Core connection in a transaction (the web's answering path runs
    on a `prepared.DirectConnection`).
    """
    if action not in TRANSITIONS:
        raise SignOnError(f"Unknown action {action!r}; use one of {', '.join(TRANSITIONS)}.")
    now = now or utcnow()
    if action != "invite":
        _check_open(campaign, now, answered_at)
    if action == "confirm" and not text_hash:
        raise SignOnError("A confirmation must name the letter text it agrees to.")
    allowed, _ = TRANSITIONS[action]
    fields = dict(fields or {})
    connection = events.core_connection(session)
    for attempt in range(3):
        if current is None or attempt:
            row = connection.execute(
                _CURRENT, {"campaign_id": campaign.id, "organisation_id": organisation_id}
            ).one_or_none()
            current = None if row is None else Current(*row)
        before = current.state if current else None
        if before not in allowed:
            starts = ", ".join(sorted(state or "not invited" for state in allowed))
            raise SignOnError(
                f"Cannot {action} an invitation that is {before or 'not invited'}; "
                f"{action} is possible only from: {starts}."
            )
        kind = _event_kind(action, before, current.text_hash if current else None, text_hash)
        if current is not None and (not kind or _same_listing(action, current, fields)):
            return Outcome(current.id, before or "", None, changed=False)
        values = _values_for(action, text_hash, fields, now, decided_at=answered_at)
        if current is None:
            inserted = _insert(session, campaign, organisation_id, dict(values))
            if inserted is None:
                continue
            invitation_id = inserted
            outcome = outcome_of(
                organisation_id,
                values["state"],
                values.get("listing", Listing.PUBLIC.value),
                values.get("text_hash"),
                0,
                signer_public=values.get("signer_public", False),
            )
        else:
            result = connection.execute(
                _CONDITIONAL_UPDATE, {**values, "if_id": current.id, "if_version": current.version}
            )
            if result.rowcount != 1:
                continue  # lost a race; read the new state and decide again
            invitation_id = current.id
            found = outcome_of(
                organisation_id,
                current.state,
                current.listing,
                current.text_hash,
                current.version,
                signer_public=current.signer_public,
            )
            outcome = outcome_of(
                organisation_id,
                values["state"],
                values.get("listing", current.listing),
                values.get("text_hash", current.text_hash),
                current.version + 1,
                found=found,
                signer_public=values.get("signer_public", current.signer_public),
            )
        entry = events.Entry(
            kind,
            actor,
            campaign.id,
            organisation_id,
            invitation_id,
            ip,
            text_hash if action == "confirm" else None,
            {
                **{k: v for k, v in fields.items() if v is not None},
                **(detail or {}),
                **({"received_on": answered_at.isoformat()} if answered_at else {}),
            },
            outcome,
        )
        events.append(connection, events.campaign_chain(campaign.slug), entry)
        return Outcome(invitation_id, values["state"], kind, changed=True)
    raise SignOnError("The invitation kept changing while this answer was saved; try again.")


def _same_listing(action: str, current: Current, fields: Mapping[str, Any]) -> bool:
    """True for a change of listing that changes nothing (it is not logged)."""
    if action != "change_listing":
        return False
    listing = fields.get("listing") or Listing.PUBLIC.value
    return (listing, bool(fields.get("signer_public"))) == (
        current.listing,
        bool(current.signer_public),
    )


# The columns `invite_many` writes for each new invitation, in its rows' order.
_NEW_INVITATION_KEYS = (
    "campaign_id",
    "organisation_id",
    "state",
    "listing",
    "version",
    "view_count",
    "reminders_sent",
)


def invite_many(
    session: Session, campaign: Campaign, organisation_ids: list[int], *, actor: str
) -> dict[int, int]:
    """`transition(..., "invite")` for many organisations that have no invitation yet.

    The same rows and the same chained "invited" entries, written as two
    executemany (an invitation a transition took about a millisecond each).
    The invitations' unique (campaign, organisation) key keeps the condition
    that none existed: if another process made one meanwhile, nothing is kept.
    Returns the new invitations' ids by organisation id.
    """
    if not organisation_ids:
        return {}
    now = utcnow()
    rows = [
        (campaign.id, oid, InvitationState.INVITED.value, Listing.PUBLIC.value, 0, 0, 0)
        for oid in organisation_ids
    ]
    constants = {"invited_at": now, "created_at": now, "updated_at": now, "signer_public": False}
    try:
        bulk_sql.insert_rows(session, _INVITATIONS, _NEW_INVITATION_KEYS, rows, constants)
    except IntegrityError as exc:
        raise SignOnError(
            "Another process invited or recorded an answer for one of these organisations "
            "while this ran; nothing was queued. Run the command again."
        ) from exc
    query = select(Invitation.organisation_id, Invitation.id).where(
        Invitation.campaign_id == campaign.id
    )
    ids = {organisation_id: id_ for organisation_id, id_ in session.execute(query)}
    entries = [
        events.Entry(
            "invited",
            actor,
            campaign.id,
            oid,
            ids[oid],
            detail={},
            outcome=outcome_of(
                oid,
                InvitationState.INVITED.value,
                Listing.PUBLIC.value,
                None,
                0,
                signer_public=False,
            ),
        )
        for oid in organisation_ids
    ]
    events.record_many(
        session, chain=events.campaign_chain(campaign.slug), entries=entries, created_at=now
    )
    return {organisation_id: ids[organisation_id] for organisation_id in organisation_ids}


# --- staff settle a proposed name -------------------------------------------------------

_PROPOSAL = select(
    _INVITATIONS.c.id,
    _INVITATIONS.c.state,
    _INVITATIONS.c.version,
    _INVITATIONS.c.text_hash,
    _INVITATIONS.c.listing,
    _INVITATIONS.c.proposed_name,
    _INVITATIONS.c.signer_public,
).where(
    _INVITATIONS.c.campaign_id == bindparam("campaign_id"),
    _INVITATIONS.c.organisation_id == bindparam("organisation_id"),
)


def settle_proposed_name(
    session: Session,
    campaign: Campaign,
    organisation_id: int,
    *,
    approve: bool,
    expected: str,
    actor: str,
    detail: Mapping[str, Any] | None = None,
) -> None:
    """Approve (it prints from now on) or reject the pending proposed name `expected`.

    Not a transition: the invitation's state stays, and staff settle names after the
    sign-on has closed too. It is the same kind of step, though: one conditional
    UPDATE (the row changes only if the proposal is still the one staff saw) and the
    chained event, in one transaction. Raises SignOnError when no proposal is
    pending or it changed meanwhile.
    """
    connection = events.core_connection(session)
    where = {"campaign_id": campaign.id, "organisation_id": organisation_id}
    current = connection.execute(_PROPOSAL, where).one_or_none()
    if current is None or current.proposed_name is None:
        raise SignOnError("No proposed name is pending for this organisation; nothing changed.")
    if current.proposed_name != expected:
        raise SignOnError(
            f"The proposed name changed meanwhile: it is now {current.proposed_name!r}, not "
            f"{expected!r}. Nothing changed. Look at it again and decide on the new one."
        )
    values: dict[str, Any] = {
        "proposed_name": None,
        "proposed_by": None,
        "proposed_at": None,
        "updated_at": utcnow(),
    }
    if approve:
        values["display_name"] = expected
    result = connection.execute(
        _CONDITIONAL_UPDATE, {**values, "if_id": current.id, "if_version": current.version}
    )
    if result.rowcount != 1:
        raise SignOnError(
            "The invitation changed while this was saved (a new answer came in); nothing "
            "changed. Look at the proposal again."
        )
    # The version moved, so the entry binds the invitation as it left it, as a transition's does.
    found = outcome_of(
        organisation_id,
        current.state,
        current.listing,
        current.text_hash,
        current.version,
        signer_public=current.signer_public,
    )
    outcome = outcome_of(
        organisation_id,
        current.state,
        current.listing,
        current.text_hash,
        current.version + 1,
        found=found,
        signer_public=current.signer_public,
    )
    entry = events.Entry(
        "name approved" if approve else "name rejected",
        actor,
        campaign.id,
        organisation_id,
        current.id,
        detail={"proposed_name": expected, **(detail or {})},
        outcome=outcome,
    )
    events.append(connection, events.campaign_chain(campaign.slug), entry)


# --- campaign-wide actions -----------------------------------------------------------


def close_campaign(session: Session, campaign: Campaign, *, actor: str) -> bool:
    """Stop the sign-on now: every link expires and every answer is frozen."""
    if campaign.closed_at is not None:
        return False
    campaign.closed_at = utcnow()
    session.flush()
    events.record_for(
        session,
        campaign,
        kind="closed",
        actor=actor,
    )
    return True


@dataclass(frozen=True)
class Reopening:
    """What `reopen_campaign` did: the event it logged (None: nothing to do) and the deadline."""

    event: str | None
    deadline: datetime | None


def reopen_campaign(
    session: Session,
    campaign: Campaign,
    *,
    actor: str,
    file_deadline: datetime | None,
    until: datetime | None = None,
    now: datetime | None = None,
    time_zone: str | None = None,
) -> Reopening:
    """Take answers again after `close` or the deadline; `until` sets a new deadline.

    Without `until`, the deadline stays what it was (letter.toml's, or an earlier
    extension) and must still be ahead. Logged as "reopened", or as "deadline
    extended" when the sign-on was open and only the deadline moved. Its messages give
    times in the campaign's `time_zone` (letter.toml's), named.
    """
    from coalitionletter.dates import format_deadline

    now = now or utcnow()
    if until is not None and until <= now:
        raise SignOnError(
            f"--until {format_deadline(until, time_zone)} is not in the future; give the new "
            "deadline as a date and time ahead, e.g. --until 2020-08-21T17:00:00+01:00. "
            "Nothing was changed."
        )
    deadline = (
        until if until is not None else effective_deadline(file_deadline, campaign.extended_until)
    )
    if deadline is not None and deadline <= now:
        raise SignOnError(
            f"The deadline of {campaign.slug} ({format_deadline(deadline, time_zone)}) has "
            "passed, so reopening would close it again at once. Give a new deadline with "
            "--until DATETIME. Nothing was changed."
        )
    was_open = is_open(campaign, now)
    if was_open and until is None:
        return Reopening(None, deadline)
    previous = campaign.deadline
    campaign.closed_at = None
    if until is not None:
        campaign.extended_until = until
        campaign.deadline = until
    session.flush()
    kind = "deadline extended" if was_open else "reopened"
    events.record_for(
        session,
        campaign,
        kind=kind,
        actor=actor,
        detail={
            "deadline": deadline.isoformat() if deadline else None,
            "previous_deadline": previous.isoformat() if previous else None,
        },
    )
    return Reopening(kind, deadline)


def invitations_of(session: Session, campaign: Campaign) -> dict[int, Invitation]:
    """The campaign's invitations by organisation id."""
    rows = session.scalars(select(Invitation).where(Invitation.campaign_id == campaign.id))
    return {invitation.organisation_id: invitation for invitation in rows}


def stale_confirmations(
    session: Session, campaign: Campaign, current: Collection[str]
) -> list[Invitation]:
    """Confirmed invitations whose agreed text is not the current one (`current`: its hashes)."""
    query = select(Invitation).where(
        Invitation.campaign_id == campaign.id,
        Invitation.state == CONFIRMED,
        Invitation.text_hash.not_in(sorted(current)) | Invitation.text_hash.is_(None),
    )
    return list(session.scalars(query.order_by(Invitation.id)))


def reminders_due(
    session: Session,
    campaign: Campaign,
    *,
    max_reminders: int,
    interval_days: int,
    last_contact: dict[int, datetime],
    now: datetime | None = None,
) -> list[Invitation]:
    """Unanswered invitations that may get a reminder now (under the cap, not too soon)."""
    now = now or utcnow()
    if not is_open(campaign, now):
        return []
    query = select(Invitation).where(
        Invitation.campaign_id == campaign.id,
        Invitation.state == INVITED,
        Invitation.reminders_sent < max_reminders,
    )
    due: list[Invitation] = []
    for invitation in session.scalars(query.order_by(Invitation.id)):
        contacted = last_contact.get(invitation.id)
        if contacted is None:
            continue  # the invitation itself has not gone out yet
        if invitation.last_reminded_at is not None:
            contacted = max(contacted, invitation.last_reminded_at)
        if (now - contacted).total_seconds() >= interval_days * 86_400:
            due.append(invitation)
    return due


def note_reminder(session: Session, invitation: Invitation, now: datetime | None = None) -> None:
    """Count a reminder as it is queued, so a rerun does not queue a second one."""
    session.execute(
        update(Invitation)
        .where(Invitation.id == invitation.id)
        .values(reminders_sent=Invitation.reminders_sent + 1, last_reminded_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )


def staff_actor(staff_name: str) -> str:
    """How a staff member appears in the trail."""
    return f"staff: {staff_name}"
