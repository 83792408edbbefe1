"""The event log: append-only, each entry chained to the one before by hash."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from coalitionletter import events
from coalitionletter.db import Database
from coalitionletter.models import Event


def _append(database: Database, count: int) -> None:
    with database.writing() as session:
        for number in range(count):
            events.record(
                session, chain="campaign:x", kind="note", actor="staff", detail={"n": number}
            )


def test_an_untouched_chain_verifies(database: Database) -> None:
    _append(database, 3)
    with database.reading() as session:
        assert events.verify(session, "campaign:x") == []


def test_an_edited_entry_is_detected(database: Database) -> None:
    _append(database, 3)
    with database.writing() as session:
        session.execute(update(Event).where(Event.seq == 2).values(actor="someone else"))
    with database.reading() as session:
        problems = events.verify(session, "campaign:x")
    assert [p.seq for p in problems] == [2]
    assert "changed" in problems[0].reason


@pytest.mark.parametrize(
    ("removed", "reported"),
    [
        (3, [(2, "the chain's last entries were removed")]),
        (2, [(3, "entry 2 is missing"), (3, "does not follow the entry before it")]),
    ],
    ids=["last", "middle"],
)
def test_a_removed_entry_is_detected(
    database: Database, removed: int, reported: list[tuple[int, str]]
) -> None:
    _append(database, 3)
    with database.writing() as session:
        session.query(Event).filter(Event.seq == removed).delete()
    with database.reading() as session:
        problems = events.verify(session, "campaign:x")
    assert [(p.seq, p.reason) for p in problems] == reported


def test_entries_are_numbered_per_chain(database: Database) -> None:
    _append(database, 2)
    with database.writing() as session:
        other = events.record(session, chain="registry", kind="note", actor="staff")
    assert other.seq == 1


class _Undo(Exception):
    """Raised to roll a transaction back after reading what it wrote."""


WHEN = datetime(2026, 11, 28, 12, 0, 0, 123456, tzinfo=UTC)
ENTRIES = [
    events.Entry("organisation_added", "staff", organisation_id=7, detail={"name": "Ünïcode ’"}),
    events.Entry("note", "importer", campaign_id=2, invitation_id=3, ip="127.0.0.1"),
    events.Entry("organisation_edited", "staff", organisation_id=7, text_hash="b" * 64),
]


def _record_one_by_one(session: Session, entries: list[events.Entry]) -> None:
    for entry in entries:
        events.record(
            session,
            chain="registry",
            kind=entry.kind,
            actor=entry.actor,
            campaign_id=entry.campaign_id,
            organisation_id=entry.organisation_id,
            invitation_id=entry.invitation_id,
            ip=entry.ip,
            text_hash=entry.text_hash,
            detail=entry.detail,
            created_at=WHEN,
        )


def _hashes_after_the_first(session: Session, chain: str) -> list[str]:
    query = select(Event.hash).where(Event.chain == chain, Event.seq > 1).order_by(Event.seq)
    return list(session.scalars(query))


def test_record_many_makes_the_same_chain_as_recording_one_by_one(database: Database) -> None:
    with database.writing() as session:
        events.record(session, chain="registry", kind="note", actor="staff")
    with pytest.raises(_Undo), database.writing() as session:
        _record_one_by_one(session, ENTRIES)
        expected = _hashes_after_the_first(session, "registry")
        raise _Undo
    with database.writing() as session:
        hashes = events.record_many(session, chain="registry", entries=ENTRIES, created_at=WHEN)
    assert len(expected) == len(ENTRIES)
    assert hashes == expected
    with database.reading() as session:
        assert events.verify(session, "registry") == []
        assert _hashes_after_the_first(session, "registry") == expected


def test_record_many_starts_a_new_chain_and_record_continues_it(database: Database) -> None:
    with database.writing() as session:
        events.record_many(session, chain="campaign:new", entries=ENTRIES[:2])
        events.record(session, chain="campaign:new", kind="note", actor="staff")
    with database.reading() as session:
        seqs = session.scalars(select(Event.seq).where(Event.chain == "campaign:new"))
        assert sorted(seqs) == [1, 2, 3]
        assert events.verify(session, "campaign:new") == []


def test_record_many_of_nothing_writes_nothing(database: Database) -> None:
    with database.writing() as session:
        assert events.record_many(session, chain="registry", entries=[]) == []
    with database.reading() as session:
        assert session.scalar(select(func.count()).select_from(Event)) == 0
