"""Hot statements on a DirectConnection: the same rows, the same chain, the same errors."""

from __future__ import annotations

from datetime import UTC

import pytest
from sqlalchemy import bindparam, event, func, select
from sqlalchemy.exc import IntegrityError

from coalitionletter import events, prepared
from coalitionletter.db import Database
from coalitionletter.models import Event, EventChain

CHAIN = "campaign:prepared-test"
_EVENTS = Event.__table__
# A hot statement of the test's own that reads a time column back.
_TIMES = prepared.hot(
    select(_EVENTS.c.seq, _EVENTS.c.created_at)
    .where(_EVENTS.c.chain == bindparam("chain"))
    .order_by(_EVENTS.c.seq)
)


def _entry(kind: str) -> events.Entry:
    return events.Entry(kind, "tester", detail={"note": "naïve café, 加拿大"})


def test_a_chain_appended_on_a_direct_connection_verifies_with_one_written_by_a_session(
    database: Database,
) -> None:
    with database.engine.begin() as connection:  # a new chain: its head is made here
        direct = prepared.DirectConnection(connection)
        events.append(direct, CHAIN, _entry("first"))
        direct.close()
    with database.writing() as session:
        events.record(session, chain=CHAIN, kind="second", actor="staff")
    with database.engine.begin() as connection:
        direct = prepared.DirectConnection(connection)
        events.append(direct, CHAIN, _entry("third"))
        direct.close()
    with database.reading() as session:
        assert events.verify(session, CHAIN) == []
        assert session.get(EventChain, CHAIN).length == 3


def test_a_hot_query_reads_the_rows_sqlalchemy_reads_with_times_in_utc(
    database: Database,
) -> None:
    with database.writing() as session:
        events.record(session, chain=CHAIN, kind="one", actor="staff")
        events.record(session, chain=CHAIN, kind="two", actor="staff")
    with database.engine.begin() as connection:
        expected = [tuple(row) for row in connection.execute(_TIMES, {"chain": CHAIN})]
        direct = prepared.DirectConnection(connection)
        rows = direct.execute(_TIMES, {"chain": CHAIN}).all()
        direct.close()
    assert [tuple(row) for row in rows] == expected
    assert [row.seq for row in rows] == [1, 2]
    assert all(row.created_at.tzinfo == UTC for row in rows)


def test_a_database_error_on_a_hot_statement_is_sqlalchemys_and_changes_nothing(
    database: Database,
) -> None:
    with database.writing() as session:
        written = events.record(session, chain=CHAIN, kind="one", actor="staff")
    duplicate = {key: getattr(written, key) for key in (*events.HASHED, "hash") if key != "detail"}
    duplicate["detail"] = written.detail
    with pytest.raises(IntegrityError), database.engine.begin() as connection:
        prepared.DirectConnection(connection).execute(events._INSERT_EVENT, duplicate)
    with database.reading() as session:
        assert session.scalar(select(func.count(Event.id))) == 1
        assert events.verify(session, CHAIN) == []


def test_only_statements_not_marked_hot_go_through_sqlalchemys_execution(
    database: Database,
) -> None:
    seen: list[str] = []

    def listener(_conn, _cursor, statement, _params, _context, _many):  # type: ignore[no-untyped-def]
        seen.append(statement)

    event.listen(database.engine, "before_cursor_execute", listener)
    try:
        with database.engine.begin() as connection:
            direct = prepared.DirectConnection(connection)
            direct.execute(_TIMES, {"chain": CHAIN})
            direct.execute(select(func.count(Event.id)))
            direct.close()
    finally:
        event.remove(database.engine, "before_cursor_execute", listener)
    assert [s for s in seen if "events" in s] == [s for s in seen if "count(events.id)" in s]
    assert len([s for s in seen if "count(events.id)" in s]) == 1
