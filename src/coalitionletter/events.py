"""The append-only event log: every entry chained to the one before it by SHA-256.

One chain per campaign (`campaign:<slug>`) and one for the registry. Appending
locks the chain's head row, so concurrent writers (web workers, the CLI) queue
and the chain never forks.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from coalitionletter.models import Event, EventChain, utcnow

GENESIS = "0" * 64
REGISTRY_CHAIN = "registry"


def campaign_chain(slug: str) -> str:
    """The chain name for a campaign's events."""
    return f"campaign:{slug}"


def _canonical(payload: Mapping[str, Any]) -> str:
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _timestamp(value: datetime) -> str:
    return value.isoformat(timespec="microseconds")


def event_hash(event: Event) -> str:
    """The SHA-256 over an event's content and the hash of the event before it."""
    payload = {
        "chain": event.chain,
        "seq": event.seq,
        "kind": event.kind,
        "campaign_id": event.campaign_id,
        "organisation_id": event.organisation_id,
        "invitation_id": event.invitation_id,
        "actor": event.actor,
        "ip": event.ip,
        "text_hash": event.text_hash,
        "detail": event.detail,
        "created_at": _timestamp(event.created_at),
        "prev_hash": event.prev_hash,
    }
    return hashlib.sha256(_canonical(payload).encode("utf-8")).hexdigest()


def _lock_head(session: Session, chain: str) -> EventChain:
    query = select(EventChain).where(EventChain.name == chain).with_for_update()
    head = session.scalars(query).one_or_none()
    if head is not None:
        return head
    try:
        with session.begin_nested():
            session.add(EventChain(name=chain, head_hash=GENESIS, length=0))
    except IntegrityError:
        pass  # another writer created it first; lock theirs below
    return session.scalars(query.execution_options(populate_existing=True)).one()


def record(
    session: Session,
    *,
    chain: str,
    kind: str,
    actor: str,
    campaign_id: int | None = None,
    organisation_id: int | None = None,
    invitation_id: int | None = None,
    ip: str | None = None,
    text_hash: str | None = None,
    detail: Mapping[str, Any] | None = None,
) -> Event:
    """Append one event to a chain, in the caller's transaction."""
    head = _lock_head(session, chain)
    created = utcnow()
    event = Event(
        chain=chain,
        seq=head.length + 1,
        kind=kind,
        campaign_id=campaign_id,
        organisation_id=organisation_id,
        invitation_id=invitation_id,
        actor=actor,
        ip=ip,
        text_hash=text_hash,
        detail=_canonical(dict(detail or {})),
        created_at=created,
        prev_hash=head.head_hash,
    )
    event.hash = event_hash(event)
    session.add(event)
    head.head_hash = event.hash
    head.length = event.seq
    session.flush()
    return event


@dataclass(frozen=True)
class ChainProblem:
    """One place where a stored chain does not add up."""

    seq: int
    reason: str


def verify(session: Session, chain: str) -> list[ChainProblem]:
    """Recompute a chain; return every break (an edited, removed or reordered entry)."""
    problems: list[ChainProblem] = []
    previous = GENESIS
    expected_seq = 1
    events = session.scalars(select(Event).where(Event.chain == chain).order_by(Event.seq))
    for event in events:
        if event.seq != expected_seq:
            problems.append(ChainProblem(event.seq, f"entry {expected_seq} is missing"))
        if event.prev_hash != previous:
            problems.append(ChainProblem(event.seq, "does not follow the entry before it"))
        if event_hash(event) != event.hash:
            problems.append(ChainProblem(event.seq, "was changed after it was written"))
        previous = event.hash
        expected_seq = event.seq + 1
    head = session.get(EventChain, chain)
    if head is not None and (head.head_hash != previous or head.length != expected_seq - 1):
        problems.append(ChainProblem(expected_seq - 1, "the chain's last entries were removed"))
    return problems
