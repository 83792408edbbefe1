"""The append-only event log: every entry chained to the one before it by SHA-256.

One chain per campaign (`campaign:<slug>`), one for the registry and one for
the staff console's accounts (`staff`). Appending
locks the chain's head row, so concurrent writers (web workers, the CLI) queue
and the chain never forks.

An entry that changes an invitation carries its `outcome`: the invitation's
fields as the change left them (see `signon.states.outcome_of`). It is hashed
with the entry, so `signon.audit` can replay a campaign's outcomes and compare
them with the rows: a row changed by hand no longer matches its trail. Entries
written before outcomes existed have none and hash as they always did.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any, NamedTuple, Protocol

from sqlalchemy import Connection, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from coalitionletter import bulk_sql, prepared
from coalitionletter.models import Base, Event, EventChain, utcnow

GENESIS = "0" * 64
REGISTRY_CHAIN = "registry"
STAFF_CHAIN = "staff"
# The Table objects (typed as such, unlike a model's __table__).
_EVENTS = Base.metadata.tables[Event.__tablename__]
_HEADS = Base.metadata.tables[EventChain.__tablename__]
# Core statements for `append`, built once: one entry is a locked read of the head, an
# INSERT and an UPDATE, with none of the ORM's loading and flushing around them.
_HEAD_FOR_UPDATE = prepared.hot(
    select(_HEADS.c.length, _HEADS.c.head_hash)
    .where(_HEADS.c.name == bindparam("chain"))
    .with_for_update()
)
_INSERT_EVENT = prepared.hot(insert(_EVENTS))
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


# One encoder for every entry: json.dumps with these options would build a new one per call.
_ENCODER = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _canonical(payload: Mapping[str, Any]) -> str:
    return _ENCODER.encode(payload)


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
# Hashed when present only, so that entries written before it existed keep their hashes.
OUTCOME = "outcome"


def _digest(values: Mapping[Any, Any], stamp: str) -> str:
    """SHA-256 of an entry's HASHED fields (`stamp`: its created_at as text) and its outcome."""
    payload = {key: values[key] for key in HASHED}
    payload["created_at"] = stamp
    if values.get(OUTCOME) is not None:
        payload[OUTCOME] = values[OUTCOME]
    return hashlib.sha256(_canonical(payload).encode("utf-8")).hexdigest()


def event_hash(event: Event) -> str:
    """The SHA-256 over an event's content and the hash of the event before it."""
    values = {key: getattr(event, key) for key in (*HASHED, OUTCOME)}
    return _digest(values, _timestamp(event.created_at))


def lock_chain(session: Session, chain: str) -> None:
    """Hold a chain's head until the transaction ends, so its writers queue behind this one."""
    _locked_head(core_connection(session), chain)


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
    """(length, head hash) of a chain, its head row locked until the transaction ends.

    The one head-locker: `append`, `record_many` and `lock_chain` all go through it.
    """
    head = connection.execute(_HEAD_FOR_UPDATE, {"chain": chain}).one_or_none()
    if head is None:
        try:  # the head is made once per chain; a writer racing to make it too wins or waits
            with connection.begin_nested():
                connection.execute(_NEW_HEAD, {"name": chain, "head_hash": GENESIS, "length": 0})
        except IntegrityError:
            pass  # another writer created it first; lock theirs below
        head = connection.execute(_HEAD_FOR_UPDATE, {"chain": chain}).one()
    return head.length, head.head_hash


def _move_head(connection: AnyConnection, chain: str, length: int, head_hash: str) -> None:
    connection.execute(_MOVE_HEAD, {"chain": chain, "length": length, "head_hash": head_hash})


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
    key = connection.execute(_INSERT_EVENT, values).inserted_primary_key
    assert key is not None  # an INSERT into a table with a primary key always returns one
    _move_head(connection, chain, values["seq"], values["hash"])
    return {"id": key[0], **values}


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
    outcome: Mapping[str, Any] | None = None,
) -> Event:
    """Append one event to a chain, in the caller's transaction; return it as written.

    The entry goes in by Core (see `append`), so the returned Event is a copy of
    the row as written, not attached to the session. An event that changes an
    invitation's state, listing, agreed text or organisation must pass its
    `outcome` (`signon.states.outcome_of`), or `audit --verify` reports the row.
    """
    entry = Entry(
        kind, actor, campaign_id, organisation_id, invitation_id, ip, text_hash, detail, outcome
    )
    return Event(**append(core_connection(session), chain, entry, created_at))


class Entry(NamedTuple):
    """One event for `append` and `record_many`: what `record` takes, apart from the chain."""

    kind: str
    actor: str
    campaign_id: int | None = None
    organisation_id: int | None = None
    invitation_id: int | None = None
    ip: str | None = None
    text_hash: str | None = None
    detail: Mapping[str, Any] | None = None
    outcome: Mapping[str, Any] | None = None


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
        OUTCOME: None if entry.outcome is None else _canonical(entry.outcome),
    }
    values["hash"] = _digest(values, stamp)
    return values


_ROW_KEYS = tuple(key for key in (*HASHED, OUTCOME, "hash") if key != "created_at")
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
    connection = core_connection(session)
    created = _utc(created_at)
    stamp = _timestamp(created)
    rows = []
    hashes = []
    last = _locked_head(connection, chain)
    for entry in entries:
        values = _entry_values(chain, last, entry, created, stamp)
        last = (values["seq"], values["hash"])
        rows.append(_ROW(values))
        hashes.append(values["hash"])
    _move_head(connection, chain, *last)
    bulk_sql.insert_rows(session, _EVENTS, _ROW_KEYS, rows, {"created_at": created})
    return hashes


@dataclass(frozen=True)
class ChainProblem:
    """One place where a stored chain (or a row bound to it) does not add up."""

    seq: int
    reason: str


@dataclass(frozen=True)
class Head:
    """A chain's last entry: its number and hash. As text (`12:3fa9...`) it is an anchor."""

    length: int
    hash: str

    def __str__(self) -> str:
        return f"{self.length}:{self.hash}"


class BoundOutcome(NamedTuple):
    """One entry's outcome for an invitation, as the chain holds it."""

    seq: int
    invitation_id: int
    fields: dict[str, Any]


@dataclass
class ChainReading:
    """A chain read and recomputed once: its breaks, its head, its entries' hashes, outcomes."""

    problems: list[ChainProblem] = field(default_factory=list)
    head: Head = Head(0, GENESIS)
    hashes: dict[int, str] = field(default_factory=dict)
    outcomes: list[BoundOutcome] = field(default_factory=list)

    def holds(self, anchor: Head) -> bool:
        """True if the entry an anchor names (its hash whole or a prefix) is still in the chain."""
        return self.hashes.get(anchor.length, "").startswith(anchor.hash)


def _fields(outcome: str) -> dict[str, Any]:
    try:
        fields = json.loads(outcome)
    except ValueError:
        return {}  # an entry edited into nonsense: its hash says so already
    return fields if isinstance(fields, dict) else {}


_COLUMN_KEYS = (*HASHED, OUTCOME, "hash")
_COLUMNS = [_EVENTS.c[key] for key in _COLUMN_KEYS]


def read_chain(session: Session | AnyConnection, chain: str) -> ChainReading:
    """Read a chain once and recompute it: every break (an edited, removed or reordered
    entry, or a head that does not match its last entry), and its invitations' outcomes."""
    connection = core_connection(session)
    reading = ChainReading()
    problems = reading.problems
    previous = GENESIS
    expected_seq = 1
    query = select(*_COLUMNS).where(_EVENTS.c.chain == chain).order_by(_EVENTS.c.seq)
    for raw in connection.execute(query):
        row = dict(zip(_COLUMN_KEYS, raw, strict=True))  # plain values: read once each
        seq = row["seq"]
        if seq != expected_seq:
            problems.append(ChainProblem(seq, f"entry {expected_seq} is missing"))
        if row["prev_hash"] != previous:
            problems.append(ChainProblem(seq, "does not follow the entry before it"))
        if _digest(row, _timestamp(row["created_at"])) != row["hash"]:
            problems.append(ChainProblem(seq, "was changed after it was written"))
        if row[OUTCOME] is not None and row["invitation_id"] is not None:
            reading.outcomes.append(BoundOutcome(seq, row["invitation_id"], _fields(row[OUTCOME])))
        previous = row["hash"]
        reading.hashes[seq] = previous
        expected_seq = seq + 1
    reading.head = Head(expected_seq - 1, previous)
    stored = connection.execute(
        select(_HEADS.c.length, _HEADS.c.head_hash).where(_HEADS.c.name == chain)
    ).one_or_none()
    if stored is not None and (stored.head_hash != previous or stored.length != expected_seq - 1):
        problems.append(ChainProblem(expected_seq - 1, "the chain's last entries were removed"))
    return reading


def verify(session: Session, chain: str) -> list[ChainProblem]:
    """Recompute a chain; return every break (an edited, removed or reordered entry)."""
    return read_chain(session, chain).problems
