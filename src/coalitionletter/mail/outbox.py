"""The outbox: one row per message, moved queued -> sending -> sent (or failed, or unknown).

The personal link is made only when a message moves to `sending`, so the raw
token lives in memory for the few milliseconds it takes to hand the message
over and is never stored. A message is committed as `sending` before the
server gets it and as `sent` only after the server took it, so a rerun after a
crash sends each remaining message exactly once; a message found still
`sending` may or may not have reached the server, so it becomes `unknown` and
is reported to staff, never resent blindly.

Every change of a message's state goes through `move`: one conditional UPDATE
(from the states it may leave, so two senders cannot both move it) and, for an
outcome, its entry in the campaign's trail. Its statements run on the driver's
cursor (`prepared.DirectConnection`, a speed path: the sending loop runs them for
every message, and SQLAlchemy's execution layer cost a third of our CPU per message).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from email.utils import make_msgid
from functools import cache
from typing import Protocol

from sqlalchemy import Connection, Update, bindparam, delete, insert, or_, select, update
from sqlalchemy.orm import Session, aliased

from coalitionletter import bulk_sql, events, prepared
from coalitionletter.db import Database
from coalitionletter.mail.message import Addressee
from coalitionletter.models import (
    Campaign,
    Contact,
    Invitation,
    InvitationToken,
    MessageState,
    Organisation,
    OutboxMessage,
    utcnow,
)
from coalitionletter.signon import consent, tokens

log = logging.getLogger(__name__)

QUEUED = MessageState.QUEUED.value
SENDING = MessageState.SENDING.value
SENT = MessageState.SENT.value
FAILED = MessageState.FAILED.value
UNKNOWN = MessageState.UNKNOWN.value
EVENT_KINDS = {SENT: "sent", FAILED: "send failed", UNKNOWN: "send outcome unknown"}
READ_AHEAD = 100  # queued messages read per query: bounds memory and how stale a name can be

_OUTBOX = OutboxMessage.__table__
_INVITATIONS = Invitation.__table__
_ORGANISATIONS = Organisation.__table__
_CONTACTS = Contact.__table__
_ISSUE_LINK = prepared.hot(insert(InvitationToken.__table__))


@cache
def _move_from(states: tuple[str, ...]) -> Update:
    """The UPDATE moving a message found in one of `states` (built once per set of states)."""
    return prepared.hot(
        update(_OUTBOX)
        .where(_OUTBOX.c.id == bindparam("message"), or_(*(_OUTBOX.c.state == s for s in states)))
        .values(
            state=bindparam("to_state"),
            error=bindparam("reason"),
            attempts=_OUTBOX.c.attempts + bindparam("attempt"),
            updated_at=bindparam("now"),
            sent_at=bindparam("sent"),
        )
    )


_QUEUED_WITH_ADDRESSEES = (
    select(
        _OUTBOX.c.id,
        _OUTBOX.c.kind,
        _OUTBOX.c.message_id,
        _OUTBOX.c.recipients,
        _OUTBOX.c.text_hash,
        _INVITATIONS.c.id,
        _INVITATIONS.c.organisation_id,
        _INVITATIONS.c.display_name,
        _INVITATIONS.c.text_hash,
        _ORGANISATIONS.c.name,
        _ORGANISATIONS.c.slug,
    )
    .join(_INVITATIONS, _INVITATIONS.c.id == _OUTBOX.c.invitation_id)
    .join(_ORGANISATIONS, _ORGANISATIONS.c.id == _INVITATIONS.c.organisation_id)
    .where(_OUTBOX.c.id.in_(bindparam("ids", expanding=True)), _OUTBOX.c.state == QUEUED)
)
_CONTACT_NAMES = (
    select(
        _CONTACTS.c.organisation_id,
        _CONTACTS.c.email_key,
        _CONTACTS.c.email,
        _CONTACTS.c.name,
        _CONTACTS.c.language,
    )
    .where(_CONTACTS.c.organisation_id.in_(bindparam("ids", expanding=True)))
    .order_by(_CONTACTS.c.id)
)


# --- queueing ------------------------------------------------------------------------


def queue(
    session: Session,
    campaign: Campaign,
    invitation: Invitation,
    *,
    kind: str,
    recipients: Iterable[str],
    text_hash: str | None,
    sender_domain: str,
) -> None:
    """Put one message in the outbox (no link yet: it is made when the message is sent)."""
    queue_many(
        session,
        campaign,
        [(invitation.id, list(recipients))],
        kind=kind,
        text_hash=text_hash,
        sender_domain=sender_domain,
    )


def queue_many(
    session: Session,
    campaign: Campaign,
    messages: Sequence[tuple[int, list[str]]],
    *,
    kind: str,
    text_hash: str | None,
    sender_domain: str,
) -> None:
    """Put messages in the outbox in the order given, as (invitation id, recipients)."""
    session.flush()  # the invitations they point to
    rows = [
        (
            campaign.id,
            invitation_id,
            kind,
            ",".join(recipients),
            make_msgid(domain=sender_domain),
            QUEUED,
            0,
            text_hash,
        )
        for invitation_id, recipients in messages
    ]
    keys = (
        "campaign_id", "invitation_id", "kind", "recipients", "message_id", "state", "attempts",
        "text_hash",
    )  # fmt: skip
    now = utcnow()
    constants = {"error": None, "created_at": now, "updated_at": now, "sent_at": None}
    bulk_sql.insert_rows(session, _OUTBOX, keys, rows, constants)


def drop_queued(session: Session, invitation_id: int) -> int:
    """Remove an invitation's messages not yet sent (a new link replaces them)."""
    unsent = delete(_OUTBOX).where(
        _OUTBOX.c.invitation_id == invitation_id, _OUTBOX.c.state == QUEUED
    )
    return events.core_connection(session).execute(unsent).rowcount


def invited_already(session: Session, campaign: Campaign) -> set[int]:
    """Invitations of a campaign that have an invitation message, sent or not."""
    query = select(OutboxMessage.invitation_id).where(
        OutboxMessage.campaign_id == campaign.id, OutboxMessage.kind == "invite"
    )
    return set(session.scalars(query))


def contact_times(session: Session, campaign: Campaign) -> dict[int, datetime]:
    """When each invitation last had a message sent, by invitation id."""
    rows = session.execute(
        select(OutboxMessage.invitation_id, OutboxMessage.sent_at).where(
            OutboxMessage.campaign_id == campaign.id, OutboxMessage.state == SENT
        )
    )
    latest: dict[int, datetime] = {}
    for invitation_id, sent_at in rows:
        if sent_at is not None and (invitation_id not in latest or sent_at > latest[invitation_id]):
            latest[invitation_id] = sent_at
    return latest


# --- before and after a batch ---------------------------------------------------------


def pending_ids(
    session: Session, campaign: Campaign, invitation_ids: Collection[int] | None = None
) -> list[int]:
    """The campaign's queued messages (or only those of some invitations), in sending order."""
    query = select(OutboxMessage.id).where(
        OutboxMessage.campaign_id == campaign.id, OutboxMessage.state == QUEUED
    )
    if invitation_ids is not None:
        query = query.where(OutboxMessage.invitation_id.in_(invitation_ids))
    return list(session.scalars(query.order_by(OutboxMessage.id)))


def mark_unknown(session: Session, campaign: Campaign) -> None:
    """Messages left `sending` by a stopped process: the server may have them, so say so."""
    for message in _messages(session, campaign, SENDING):
        move(
            session,
            campaign,
            message,
            UNKNOWN,
            from_states=(SENDING,),
            error="The sending process stopped while handing this message over; the server "
            "may have accepted it.",
        )


def settle_received(
    session: Session, campaign: Campaign, organisation_id: int, *, actor: str
) -> list[str]:
    """Mark an organisation's messages of unknown outcome sent, on its word; return their kinds."""
    settled = []
    for message in _messages(session, campaign, UNKNOWN, organisation_id=organisation_id):
        detail = {"settled": "the organisation said it arrived"}
        if move(
            session, campaign, message, SENT, from_states=(UNKNOWN,), actor=actor, detail=detail
        ):
            settled.append(message.kind)
    return settled


@dataclass(frozen=True)
class _Message:
    """A message in the outbox, as `move` needs it."""

    outbox_id: int
    kind: str
    organisation_id: int
    invitation_id: int


def _messages(
    session: Session, campaign: Campaign, state: str, *, organisation_id: int | None = None
) -> list[_Message]:
    """The campaign's messages in a state (of one organisation, if given), oldest first."""
    query = (
        select(OutboxMessage.id, OutboxMessage.kind, Invitation.organisation_id, Invitation.id)
        .join(Invitation, Invitation.id == OutboxMessage.invitation_id)
        .where(OutboxMessage.campaign_id == campaign.id, OutboxMessage.state == state)
        .order_by(OutboxMessage.id)
    )
    if organisation_id is not None:
        query = query.where(Invitation.organisation_id == organisation_id)
    return [_Message(*row) for row in session.execute(query)]


def unknown_labels(session: Session, campaign: Campaign) -> list[str]:
    """Messages whose outcome is unknown and not settled by a later one, for staff to check."""
    later = aliased(OutboxMessage)
    resolved = (
        select(later.id)
        .where(
            later.invitation_id == OutboxMessage.invitation_id,
            later.id > OutboxMessage.id,
            later.state == SENT,
        )
        .exists()
    )
    rows = session.execute(
        select(OutboxMessage.kind, OutboxMessage.invitation_id, Organisation.name)
        .outerjoin(Invitation, Invitation.id == OutboxMessage.invitation_id)
        .outerjoin(Organisation, Organisation.id == Invitation.organisation_id)
        .where(
            OutboxMessage.campaign_id == campaign.id,
            OutboxMessage.state == UNKNOWN,
            ~resolved,
        )
        .order_by(OutboxMessage.id)
    )
    return [
        f"{name or f'invitation {invitation_id}'} ({kind})" for kind, invitation_id, name in rows
    ]


def remaining(
    session: Session, campaign: Campaign, invitation_ids: Collection[int] | None = None
) -> int:
    """How many of the campaign's messages (or of some invitations') are still queued."""
    return len(pending_ids(session, campaign, invitation_ids))


# --- the sending loop's steps ---------------------------------------------------------


@dataclass(frozen=True)
class Queued:
    """A queued message read ahead of its turn, with what its email needs."""

    number: int  # its place in the batch, from 1
    outbox_id: int
    kind: str
    message_id: str
    recipients: list[str]
    addressee: Addressee
    organisation_slug: str
    organisation_id: int
    invitation_id: int
    changes: str | None
    text_hash: str | None = None  # the words a reconfirmation asks about


def read_ahead(database: Database, campaign: Campaign, pending: list[int]) -> Iterator[Queued]:
    """The pending messages still queued, read a few at a time, in order."""
    differences: dict[tuple[str | None, str | None], str | None] = {}
    for start in range(0, len(pending), READ_AHEAD):
        ids = pending[start : start + READ_AHEAD]
        with database.reading() as session:
            connection = session.connection()
            rows = connection.execute(_QUEUED_WITH_ADDRESSEES, {"ids": ids}).all()
            organisations = sorted({row[6] for row in rows})
            names: dict[int, dict[str, tuple[str | None, str | None]]] = {}
            for organisation_id, key, email, name, language in connection.execute(
                _CONTACT_NAMES, {"ids": organisations}
            ):
                contacts = names.setdefault(organisation_id, {})
                contacts[key or (email or "").lower()] = (name, language)
            for row in rows:
                if row[1] == "reconfirm" and (row[8], row[4]) not in differences:
                    differences[(row[8], row[4])] = _changes(session, campaign, row[8], row[4])
        by_id = {row[0]: row for row in rows}
        for number, outbox_id in enumerate(ids, start=start + 1):
            found = by_id.get(outbox_id)
            if found is not None:  # another sender may have taken it meanwhile
                yield _queued(number, found, names.get(found[6], {}), differences)


def _changes(
    session: Session, campaign: Campaign, agreed: str | None, current: str | None
) -> str | None:
    earlier = consent.recalled(session, campaign.id, agreed)
    now = consent.recalled(session, campaign.id, current)
    return consent.changes(earlier, now) if earlier and now else None


def _queued(
    number: int,
    row: Sequence,
    names: dict[str, tuple[str | None, str | None]],
    differences: dict[tuple[str | None, str | None], str | None],
) -> Queued:
    (outbox_id, kind, message_id, recipients, text_hash, invitation_id, organisation_id,
     display_name, agreed_hash, organisation_name, slug) = row  # fmt: skip
    addresses = [address for address in recipients.split(",") if address]
    return Queued(
        number=number,
        outbox_id=outbox_id,
        kind=kind,
        message_id=message_id,
        recipients=addresses,
        addressee=Addressee(
            organisation_name=display_name or organisation_name,
            recipients=tuple((names.get(a.lower(), (None, None))[0], a) for a in addresses),
            languages=tuple(names.get(a.lower(), (None, None))[1] for a in addresses),
        ),
        organisation_slug=slug,
        organisation_id=organisation_id,
        invitation_id=invitation_id,
        changes=differences.get((agreed_hash, text_hash)) if kind == "reconfirm" else None,
        text_hash=text_hash,
    )


class MessageRef(Protocol):
    """What `move` needs to know of a message: a `Queued` or a row read for staff."""

    @property
    def outbox_id(self) -> int: ...
    @property
    def kind(self) -> str: ...
    @property
    def organisation_id(self) -> int: ...
    @property
    def invitation_id(self) -> int: ...


def move(
    session: Session | Connection | prepared.DirectConnection,
    campaign: Campaign,
    message: MessageRef,
    state: str,
    *,
    from_states: tuple[str, ...],
    error: str | None = None,
    actor: str = "mail",
    detail: Mapping[str, str] | None = None,
    now: datetime | None = None,
    kind: str | None = None,
) -> bool:
    """Move a message to `state` if it is in one of `from_states`, logging an outcome.

    The one way a message's state changes. False, with nothing changed, when the
    message was not in `from_states` (another sender or run moved it first).
    """
    with _direct(session) as connection:
        now = now or utcnow()
        values = {
            "message": message.outbox_id,
            "to_state": state,
            "reason": error,
            "attempt": 1 if state == SENDING else 0,
            "now": now,
            "sent": now if state == SENT else None,
        }
        if not connection.execute(_move_from(from_states), values).rowcount:
            return False
        if state in EVENT_KINDS:
            entry = events.Entry(
                kind=kind or EVENT_KINDS[state],
                actor=actor,
                campaign_id=campaign.id,
                organisation_id=message.organisation_id,
                invitation_id=message.invitation_id,
                detail={"message": message.kind, "outbox_id": message.outbox_id}
                | dict(detail or {})
                | ({"error": error} if error else {}),
            )
            events.append(connection, events.campaign_chain(campaign.slug), entry, now)
        return True


def claim(session: Session | Connection, campaign: Campaign, queued: Queued, token: str) -> bool:
    """Move a message to `sending` and make its link from `token`; False if it was taken."""
    with _direct(session) as connection:
        now = utcnow()
        if not move(connection, campaign, queued, SENDING, from_states=(QUEUED,), now=now):
            return False  # another sender took it
        # Only the hash is kept; the raw token is in the message about to be handed over.
        link = {
            "invitation_id": queued.invitation_id,
            "token_hash": tokens.token_hash(token),
            "outbox_id": queued.outbox_id,
            "issued_at": now,
            "revoked_at": None,
        }
        connection.execute(_ISSUE_LINK, link)
        return True


def settle(
    session: Session | Connection,
    campaign: Campaign,
    queued: Queued,
    state: str,
    error: str | None = None,
    *,
    from_states: tuple[str, ...] = (SENDING, UNKNOWN),
    kind: str | None = None,
) -> None:
    """Record a message's outcome (sent, failed, unknown, or back to queued) and log it.

    `kind` names the trail entry when it is not the state's usual one (a file written).
    """
    move(session, campaign, queued, state, from_states=from_states, error=error, kind=kind)


@contextmanager
def _direct(
    session: Session | Connection | prepared.DirectConnection,
) -> Iterator[prepared.DirectConnection]:
    """The session's connection, its hot statements run on the driver's cursor."""
    if isinstance(session, prepared.DirectConnection):
        yield session  # the caller's, closed by the caller
        return
    core = events.core_connection(session)
    assert isinstance(core, Connection)  # a Session's or a Connection, never a DirectConnection
    connection = prepared.DirectConnection(core)
    try:
        yield connection
    finally:
        connection.close()
