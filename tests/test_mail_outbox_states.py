"""The outbox's one way to change a message's state: from the states it may leave, logged once."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from coalitionletter.campaigns.catalogue import campaign_row
from coalitionletter.mail import outbox
from coalitionletter.models import Event, Invitation, OutboxMessage
from fixtures_signon import CaptureHandler, SignOnWorkspace

SLUG = "ilp-magnitsky-2020"


@dataclass(frozen=True)
class Message:
    outbox_id: int
    kind: str
    organisation_id: int
    invitation_id: int


def _first_message(workspace: SignOnWorkspace) -> Message:
    with workspace.database.reading() as session:
        row = session.execute(
            select(OutboxMessage.id, OutboxMessage.kind, Invitation.organisation_id, Invitation.id)
            .join(Invitation, Invitation.id == OutboxMessage.invitation_id)
            .order_by(OutboxMessage.id)
            .limit(1)
        ).one()
    return Message(*row)


def _state_and_events(workspace: SignOnWorkspace, message: Message) -> tuple[str, int]:
    with workspace.database.reading() as session:
        state = session.scalar(
            select(OutboxMessage.state).where(OutboxMessage.id == message.outbox_id)
        )
        events = session.scalar(select(func.count(Event.id)))
    assert state is not None and events is not None
    return state, events


def test_a_message_not_in_the_states_it_may_leave_is_left_as_it_is_and_nothing_is_logged(
    signon_workspace: SignOnWorkspace, mailbox: CaptureHandler, invoke
) -> None:
    sent = invoke("invite", SLUG, "--all")
    assert sent.exit_code == 0, sent.output
    message = _first_message(signon_workspace)
    before = _state_and_events(signon_workspace, message)
    assert before[0] == "sent"
    with signon_workspace.database.writing() as session:
        campaign = campaign_row(session, SLUG)
        moved = outbox.move(session, campaign, message, "failed", from_states=("sending",))
    assert moved is False
    assert _state_and_events(signon_workspace, message) == before
    # Positive control: from a state it is in, it moves and the trail gains one entry.
    with signon_workspace.database.writing() as session:
        campaign = campaign_row(session, SLUG)
        moved = outbox.move(
            session, campaign, message, "unknown", from_states=("sent",), error="test"
        )
    assert moved is True
    assert _state_and_events(signon_workspace, message) == ("unknown", before[1] + 1)


def test_settling_a_received_message_moves_it_to_sent_with_one_entry_naming_who_said_so(
    signon_workspace: SignOnWorkspace, mailbox: CaptureHandler, invoke
) -> None:
    sent = invoke("invite", SLUG, "--all")
    assert sent.exit_code == 0, sent.output
    message = _first_message(signon_workspace)
    with signon_workspace.database.writing() as session:
        campaign = campaign_row(session, SLUG)
        outbox.move(session, campaign, message, "unknown", from_states=("sent",), error="lost")
    _, events = _state_and_events(signon_workspace, message)
    with signon_workspace.database.writing() as session:
        campaign = campaign_row(session, SLUG)
        kinds = outbox.settle_received(
            session, campaign, message.organisation_id, actor="staff: Ana"
        )
    assert kinds == [message.kind]
    assert _state_and_events(signon_workspace, message) == ("sent", events + 1)
    with signon_workspace.database.reading() as session:
        last = session.scalars(select(Event).order_by(Event.id.desc()).limit(1)).one()
    assert (last.kind, last.actor) == ("sent", "staff: Ana")
