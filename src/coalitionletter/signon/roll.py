"""Every organisation of a campaign and what became of its invitation, for staff to read.

One row per organisation in the registry: invited when, what happened to its
latest message (the outbox's state and error, or written to an .eml file),
whether the link was opened, the answer (who gave it, and whether staff
recorded it or it came through the link), and the reminders sent. The same
records `counts`, `audit` and the outbox read; nothing is stored here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coalitionletter.models import Event, Invitation, InvitationState, Organisation, OutboxMessage
from coalitionletter.signon.states import staff_actor

WRITTEN = "written to outbox file"  # the trail's word for a message written, not mailed
ANSWER_KINDS = ("confirmed", "reconfirmed", "declined", "withdrawn")
ANSWERED = (
    InvitationState.CONFIRMED.value,
    InvitationState.DECLINED.value,
    InvitationState.WITHDRAWN.value,
)
# The filters staff can pick, in the order the page offers them.
FILTERS = {
    "all": "Every organisation",
    "not-invited": "Not invited",
    "queued": "Message queued or being sent",
    "failed": "Message failed or outcome unknown",
    "waiting": "Invited, not answered",
    "opened": "Opened, not answered",
    "confirmed": "Confirmed",
    "declined": "Declined",
    "withdrawn": "Withdrawn",
}


@dataclass(frozen=True)
class Message:
    """An organisation's latest message of the campaign."""

    kind: str  # invite, remind, reconfirm
    state: str  # queued, sending, sent, failed, unknown, or "written" for an .eml file
    error: str | None
    at: datetime  # when it was sent, or last changed


@dataclass(frozen=True)
class Row:
    """One organisation and what became of its invitation."""

    organisation_id: int
    slug: str
    name: str
    country: str | None
    state: str | None  # None: never invited
    invited_at: datetime | None
    message: Message | None
    messages: int
    viewed_at: datetime | None
    view_count: int
    decided_at: datetime | None
    signer_name: str | None
    signer_title: str | None
    answered_by: str | None  # "link", or the staff member's name
    reminders: int

    @property
    def answered(self) -> bool:
        """True when the organisation confirmed, declined or withdrew."""
        return self.state in ANSWERED

    def matches(self, show: str) -> bool:
        """True when the row belongs under the filter `show` (a key of FILTERS)."""
        message = self.message.state if self.message else None
        tests = {
            "all": True,
            "not-invited": self.state is None,
            "queued": message in ("queued", "sending"),
            "failed": message in ("failed", "unknown"),
            "waiting": self.state == InvitationState.INVITED.value,
            "opened": self.state == InvitationState.INVITED.value and self.viewed_at is not None,
        }
        return tests.get(show, self.state == show)


def _latest_messages(session: Session, campaign_id: int) -> dict[int, tuple[Message, int]]:
    """By invitation id: its latest message and how many it had."""
    written = set()
    for (detail,) in session.execute(
        select(Event.detail).where(Event.campaign_id == campaign_id, Event.kind == WRITTEN)
    ):
        written.add(json.loads(detail).get("outbox_id"))
    found: dict[int, tuple[Message, int]] = {}
    query = (
        select(
            OutboxMessage.id,
            OutboxMessage.invitation_id,
            OutboxMessage.kind,
            OutboxMessage.state,
            OutboxMessage.error,
            OutboxMessage.sent_at,
            OutboxMessage.updated_at,
        )
        .where(OutboxMessage.campaign_id == campaign_id)
        .order_by(OutboxMessage.id)
    )
    for outbox_id, invitation_id, kind, state, error, sent_at, updated_at in session.execute(query):
        shown = "written" if state == "sent" and outbox_id in written else state
        count = found[invitation_id][1] + 1 if invitation_id in found else 1
        found[invitation_id] = (Message(kind, shown, error, sent_at or updated_at), count)
    return found


def _answerers(session: Session, campaign_id: int) -> dict[int, str]:
    """By invitation id: who gave its latest answer ("link" or a staff member's name)."""
    query = (
        select(Event.invitation_id, Event.actor)
        .where(Event.campaign_id == campaign_id, Event.kind.in_(ANSWER_KINDS))
        .order_by(Event.seq)
    )
    prefix = staff_actor("")
    return {
        invitation_id: actor.removeprefix(prefix) if actor.startswith(prefix) else "link"
        for invitation_id, actor in session.execute(query)
        if invitation_id is not None
    }


def rows(session: Session, campaign_id: int) -> list[Row]:
    """Every organisation of the registry (merged ones left out), by sort name."""
    messages = _latest_messages(session, campaign_id)
    answerers = _answerers(session, campaign_id)
    query = (
        select(Organisation, Invitation)
        .outerjoin(
            Invitation,
            (Invitation.organisation_id == Organisation.id)
            & (Invitation.campaign_id == campaign_id),
        )
        .where(Organisation.merged_into_id.is_(None))
        .order_by(func.lower(Organisation.sort_name), Organisation.id)
    )
    found = []
    for organisation, invitation in session.execute(query):
        latest = messages.get(invitation.id) if invitation is not None else None
        found.append(
            Row(
                organisation_id=organisation.id,
                slug=organisation.slug,
                name=organisation.name,
                country=organisation.country,
                state=invitation.state if invitation else None,
                invited_at=invitation.invited_at if invitation else None,
                message=latest[0] if latest else None,
                messages=latest[1] if latest else 0,
                viewed_at=invitation.viewed_at if invitation else None,
                view_count=invitation.view_count if invitation else 0,
                decided_at=invitation.decided_at if invitation else None,
                signer_name=invitation.signer_name if invitation else None,
                signer_title=invitation.signer_title if invitation else None,
                answered_by=answerers.get(invitation.id) if invitation else None,
                reminders=invitation.reminders_sent if invitation else 0,
            )
        )
    return found
