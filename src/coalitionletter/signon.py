"""The invitation state machine: the one way an organisation's sign-on changes.

Every change goes through `transition`, which makes one atomic conditional
UPDATE (the row changes only if it is still in a state the action may leave)
and appends the event in the same transaction. Two decisions racing for one
invitation therefore end in one state and one consistent log, on SQLite and on
PostgreSQL's READ COMMITTED alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from coalitionletter import events
from coalitionletter.errors import SignOnError
from coalitionletter.models import Campaign, Invitation, InvitationState, Listing, utcnow

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
}
# Fields an action may set on the invitation besides its state.
DECISION_FIELDS = frozenset(
    {"signer_name", "signer_title", "display_name", "listing", "decline_reason"}
)


@dataclass(frozen=True)
class Outcome:
    """What a transition did: the state now, the event kind, and whether anything changed."""

    invitation_id: int
    state: str
    event: str | None
    changed: bool


def is_open(campaign: Campaign, now: datetime | None = None) -> bool:
    """True while a campaign accepts decisions (before its deadline, not closed)."""
    now = now or utcnow()
    if campaign.closed_at is not None and campaign.closed_at <= now:
        return False
    return campaign.deadline is None or now < campaign.deadline


def _event_kind(
    action: str, before: str | None, before_hash: str | None, text_hash: str | None
) -> str:
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
    action: str, text_hash: str | None, fields: Mapping[str, Any], now: datetime
) -> dict[str, Any]:
    unknown = set(fields) - DECISION_FIELDS
    if unknown:
        raise SignOnError(f"Unknown decision fields: {', '.join(sorted(unknown))}.")
    values: dict[str, Any] = {"state": TRANSITIONS[action][1], "updated_at": now}
    if action == "invite":
        values["invited_at"] = now
        return values
    values["decided_at"] = now
    if action == "confirm":
        values["text_hash"] = text_hash
        values["listing"] = fields.get("listing") or Listing.PUBLIC.value
        values["decline_reason"] = None
    for name in ("signer_name", "signer_title", "display_name", "decline_reason"):
        if name in fields:
            values[name] = fields[name]
    return values


def _insert(
    session: Session, campaign: Campaign, organisation_id: int, values: dict[str, Any]
) -> Invitation | None:
    invitation = Invitation(
        campaign_id=campaign.id,
        organisation_id=organisation_id,
        listing=values.pop("listing", Listing.PUBLIC.value),
        **values,
    )
    try:
        with session.begin_nested():
            session.add(invitation)
    except IntegrityError:
        return None  # someone else created it in the meantime
    return invitation


def transition(
    session: Session,
    campaign: Campaign,
    organisation_id: int,
    action: str,
    *,
    actor: str,
    text_hash: str | None = None,
    ip: str | None = None,
    fields: Mapping[str, Any] | None = None,
    detail: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> Outcome:
    """Apply one action to an organisation's invitation, atomically, and log it."""
    if action not in TRANSITIONS:
        raise SignOnError(f"Unknown action {action!r}; use one of {', '.join(TRANSITIONS)}.")
    now = now or utcnow()
    if action != "invite" and not is_open(campaign, now):
        raise SignOnError(
            f"The sign-on for {campaign.slug} is closed; answers can no longer be changed."
        )
    if action == "confirm" and not text_hash:
        raise SignOnError("A confirmation must name the letter text it agrees to.")
    allowed, _ = TRANSITIONS[action]
    fields = dict(fields or {})
    for _attempt in range(3):
        current = session.execute(
            select(Invitation.id, Invitation.state, Invitation.version, Invitation.text_hash).where(
                Invitation.campaign_id == campaign.id,
                Invitation.organisation_id == organisation_id,
            )
        ).one_or_none()
        before = current.state if current else None
        if before not in allowed:
            starts = ", ".join(sorted(state or "not invited" for state in allowed))
            raise SignOnError(
                f"Cannot {action} an invitation that is {before or 'not invited'}; "
                f"{action} is possible only from: {starts}."
            )
        kind = _event_kind(action, before, current.text_hash if current else None, text_hash)
        if current is not None and not kind:
            return Outcome(current.id, before or "", None, changed=False)
        values = _values_for(action, text_hash, fields, now)
        if current is None:
            invitation = _insert(session, campaign, organisation_id, dict(values))
            if invitation is None:
                continue
            invitation_id = invitation.id
        else:
            result = session.execute(
                update(Invitation)
                .where(Invitation.id == current.id, Invitation.version == current.version)
                .values(**values, version=Invitation.version + 1)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:
                continue  # lost a race; read the new state and decide again
            invitation_id = current.id
        events.record(
            session,
            chain=events.campaign_chain(campaign.slug),
            kind=kind,
            actor=actor,
            campaign_id=campaign.id,
            organisation_id=organisation_id,
            invitation_id=invitation_id,
            ip=ip,
            text_hash=text_hash if action == "confirm" else None,
            detail={**{k: v for k, v in fields.items() if v is not None}, **(detail or {})},
        )
        return Outcome(invitation_id, values["state"], kind, changed=True)
    raise SignOnError("The invitation kept changing while this answer was saved; try again.")
