"""Two processes writing at once: each waits its turn, none sees "database is locked"."""

import pytest
from sqlalchemy import func, select

from coalitionletter import events
from coalitionletter.db import Database
from coalitionletter.models import Organisation
from fixtures_registry import start_writer, writer_result

SECONDS = 3.0


@pytest.mark.slow
def test_two_processes_writing_for_seconds_never_hit_a_locked_database_and_lose_nothing(
    database: Database,
) -> None:
    first = start_writer(database.url, "Writer A", SECONDS)
    second = start_writer(database.url, "Writer B", SECONDS)
    added_a, locked_a = writer_result(first)
    added_b, locked_b = writer_result(second)
    assert (locked_a, locked_b) == (0, 0)
    assert added_a > 0 and added_b > 0
    with database.reading() as session:
        for prefix, added in (("Writer A", added_a), ("Writer B", added_b)):
            stored = session.scalar(
                select(func.count())
                .select_from(Organisation)
                .where(Organisation.name.startswith(f"{prefix} "))
            )
            assert stored == added
        assert events.verify(session, events.REGISTRY_CHAIN) == []
