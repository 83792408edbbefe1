"""The event log: append-only, each entry chained to the one before by hash."""

from sqlalchemy import update

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


def test_a_removed_last_entry_is_detected(database: Database) -> None:
    _append(database, 3)
    with database.writing() as session:
        session.query(Event).filter(Event.seq == 3).delete()
    with database.reading() as session:
        assert events.verify(session, "campaign:x")


def test_entries_are_numbered_per_chain(database: Database) -> None:
    _append(database, 2)
    with database.writing() as session:
        other = events.record(session, chain="registry", kind="note", actor="staff")
    assert other.seq == 1
