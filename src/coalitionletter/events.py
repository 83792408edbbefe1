"""The append-only event log: every entry chained to the one before it by SHA-256.

One chain per campaign (`campaign:<slug>`) and one for the registry. Appending
locks the chain's head row, so concurrent writers (web workers, the CLI) queue
and the chain never forks.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any, NamedTuple, Protocol

from sqlalchemy import Connection, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from coalitionletter import bulk_sql, prepared
from coalitionletter.models import Event, EventChain, utcnow

GENESIS = "0" * 64
REGISTRY_CHAIN = "registry"
# Core statements for `record`, built once: one entry is a locked read of the head, an
# INSERT and an UPDATE, with none of the ORM's loading and flushing around them.
_HEADS = EventChain.__table__
_HEAD_FOR_UPDATE = prepared.hot(
    select(_HEADS.c.length, _HEADS.c.head_hash)
    .where(_HEADS.c.name == bindparam("chain"))
    .with_for_update()
)
_INSERT_EVENT = prepared.hot(insert(Event.__table__))
_NEW_HEAD = insert(_HEADS)
_MOVE_HEAD = prepared.hot(
    update(_HEADS)
    .where(_HEADS.c.name == bindparam("chain"))
    .values(length=bindparam("length"), head_hash=bindparam("head_hash"))
)
# A Core connection: SQLAlchemy's own, or one running the statements above on the cursor.
AnyConnection = Connection | prepared.DirectConnection


def campaign_chain(slug: str) -> str:
    """The chain name for a campaign's events."""
    return f"campaign:{slug}"


def _canonical(payload: Mapping[str, Any]) -> str:
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _utc(value: datetime | None) -> datetime:
    # Stored as UTC, so hashed as UTC: the hash must match what verify() reads back.
    return utcnow() if value is None else value.astimezone(UTC)


def _timestamp(value: datetime) -> str:
    return value.isoformat(timespec="microseconds")


HASHED = (
    "chain",
    "seq",
    "kind",
    "campaign_id",
    "organisation_id",
    "invitation_id",
    "actor",
    "ip",
    "text_hash",
    "detail",
    "created_at",
    "prev_hash",
)


def _digest(payload: Mapping[str, Any]) -> str:
    """SHA-256 of the HASHED fields, `created_at` already given as its timestamp text."""
    return hashlib.sha256(_canonical(payload).encode("utf-8")).hexdigest()


def event_hash(event: Event) -> str:
    """The SHA-256 over an event's content and the hash of the event before it."""
    payload = {key: getattr(event, key) for key in HASHED}
    payload["created_at"] = _timestamp(event.created_at)
    return _digest(payload)


def lock_chain(session: Session, chain: str) -> None:
    """Hold a chain's head until the transaction ends, so its writers queue behind this one."""
    _lock_head(session, chain)


def _lock_head(session: Session, chain: str) -> EventChain:
    # populate_existing: `record` moves heads by Core, past any copy this session holds.
    query = (
        select(EventChain)
        .where(EventChain.name == chain)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    head = session.scalars(query).one_or_none()
    if head is not None:
        return head
    try:
        with session.begin_nested():
            session.add(EventChain(name=chain, head_hash=GENESIS, length=0))
    except IntegrityError:
        pass  # another writer created it first; lock theirs below
    return session.scalars(query).one()


def core_connection(session: Session | AnyConnection) -> AnyConnection:
    """The connection for Core statements: a Session's, its pending ORM changes written first.

    Statements run on it skip the Session's per-statement work (about a third of an
    answer's time); the flush keeps the order Session.execute's autoflush would give.
    A Connection (the answering path runs on one, without a Session) is itself.
    """
    if not isinstance(session, Session):
        return session
    session.flush()
    return session.connection()


def _locked_head(connection: AnyConnection, chain: str) -> tuple[int, str]:
    """(length, head hash) of a chain, its head row locked until the transaction ends."""
    head = connection.execute(_HEAD_FOR_UPDATE, {"chain": chain}).one_or_none()
    if head is None:
        try:  # the head is made once per chain; a writer racing to make it too wins or waits
            with connection.begin_nested():
                connection.execute(_NEW_HEAD, {"name": chain, "head_hash": GENESIS, "length": 0})
        except IntegrityError:
            pass  # another writer created it first; lock theirs below
        head = connection.execute(_HEAD_FOR_UPDATE, {"chain": chain}).one()
    return head.length, head.head_hash


def append(
    connection: AnyConnection, chain: str, entry: Entry, created_at: datetime | None = None
) -> dict[str, Any]:
    """Append one event to a chain on a Core connection, in its transaction; return its row.

    A locked read of the head, an INSERT and an UPDATE: the web's answering path,
    which runs on a Connection, and `record` share it.
    """
    created = _utc(created_at)
    values = _entry_values(
        chain, _locked_head(connection, chain), entry, created, _timestamp(created)
    )
    (event_id,) = connection.execute(_INSERT_EVENT, values).inserted_primary_key
    connection.execute(
        _MOVE_HEAD, {"chain": chain, "length": values["seq"], "head_hash": values["hash"]}
    )
    return {"id": event_id, **values}


def record(
    session: Session | AnyConnection,
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
    created_at: datetime | None = None,
) -> Event:
    """Append one event to a chain, in the caller's transaction; return it as written.

    The entry goes in by Core (see `append`), so the returned Event is a copy of
    the row as written, not attached to the session.
    """
    entry = Entry(kind, actor, campaign_id, organisation_id, invitation_id, ip, text_hash, detail)
    return Event(**append(core_connection(session), chain, entry, created_at))


class Entry(NamedTuple):
    """One event for `record_many`: what `record` takes, apart from the chain."""

    kind: str
    actor: str
    campaign_id: int | None = None
    organisation_id: int | None = None
    invitation_id: int | None = None
    ip: str | None = None
    text_hash: str | None = None
    detail: Mapping[str, Any] | None = None


class _CampaignLike(Protocol):
    id: int
    slug: str


def record_for(
    session: Session | AnyConnection,
    campaign: _CampaignLike,
    *,
    kind: str,
    actor: str,
    **fields: Any,
) -> Event:
    """Append one event to a campaign's own chain (see `record` for the fields)."""
    return record(
        session,
        chain=campaign_chain(campaign.slug),
        kind=kind,
        actor=actor,
        campaign_id=campaign.id,
        **fields,
    )


def _entry_values(
    chain: str, after: tuple[int, str], entry: Entry, created: datetime, stamp: str
) -> dict[str, Any]:
    """The row after (seq, hash) of a chain, its hash included (`stamp`: `created` as text)."""
    values: dict[str, Any] = {
        "chain": chain,
        "seq": after[0] + 1,
        "kind": entry.kind,
        "campaign_id": entry.campaign_id,
        "organisation_id": entry.organisation_id,
        "invitation_id": entry.invitation_id,
        "actor": entry.actor,
        "ip": entry.ip,
        "text_hash": entry.text_hash,
        "detail": _canonical(dict(entry.detail or {})),
        "created_at": created,
        "prev_hash": after[1],
    }
    values["hash"] = _digest({**values, "created_at": stamp})
    return values


_ROW_KEYS = tuple(key for key in (*HASHED, "hash") if key != "created_at")
_ROW = itemgetter(*_ROW_KEYS)


def record_many(
    session: Session,
    *,
    chain: str,
    entries: Sequence[Entry],
    created_at: datetime | None = None,
) -> list[str]:
    """Append many events to one chain at once, all at one time; return their hashes.

    The chain comes out exactly as calling `record` once per entry (with that
    time) would make it, but the head is locked once and the rows go in as one
    executemany, so a bulk import does not pay a lock, a flush and an INSERT
    per event.
    """
    if not entries:
        return []
    head = _lock_head(session, chain)
    created = _utc(created_at)
    stamp = _timestamp(created)
    rows = []
    hashes = []
    last = (head.length, head.head_hash)
    for entry in entries:
        values = _entry_values(chain, last, entry, created, stamp)
        last = (values["seq"], values["hash"])
        rows.append(_ROW(values))
        hashes.append(values["hash"])
    head.length, head.head_hash = last
    session.flush()  # the head's new hash; the rows go in below, past the ORM
    bulk_sql.insert_rows(session, Event.__table__, _ROW_KEYS, rows, {"created_at": created})
    return hashes


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
    # Fresh from the database: `record` moves the head past any copy this session holds.
    head = session.get(EventChain, chain, populate_existing=True)
    if head is not None and (head.head_hash != previous or head.length != expected_seq - 1):
        problems.append(ChainProblem(expected_seq - 1, "the chain's last entries were removed"))
    return problems
