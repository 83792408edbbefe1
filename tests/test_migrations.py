"""Schema versions: an old database upgrades in place with every row kept; models match head."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from coalitionletter import db, events
from coalitionletter.db import Database
from coalitionletter.errors import RegistryError
from coalitionletter.models import Base
from coalitionletter.registry import organisations as registry

FIRST = "0001"

ROWS_AT_FIRST_REVISION = [
    "INSERT INTO organisations (id, slug, name, name_key, sort_name, country, created_at,"
    " updated_at) VALUES (1, 'pen-america', 'PEN America', 'penamerica', 'PEN America', 'US',"
    " '2020-08-01 10:00:00', '2020-08-01 10:00:00')",
    "INSERT INTO organisations (id, slug, name, name_key, sort_name, country, created_at,"
    " updated_at) VALUES (2, 'org', 'ئاتلانتىس ئۇيغۇر ئاياللار بىرلىكى', 'x', 'x', NULL,"
    " '2020-08-01 10:00:00', '2020-08-01 10:00:00')",
    "INSERT INTO contacts (id, organisation_id, name, email, email_key) VALUES"
    " (1, 1, 'A. Person', 'a@pen.example', 'a@pen.example')",
    "INSERT INTO campaigns (id, slug, title, created_at) VALUES"
    " (1, 'founding', 'Founding letter', '2020-08-01 10:00:00')",
    "INSERT INTO invitations (id, campaign_id, organisation_id, state, text_hash, listing,"
    " created_at, updated_at) VALUES (1, 1, 1, 'confirmed', 'abc', 'public',"
    " '2020-08-01 10:00:00', '2020-08-02 10:00:00')",
]


@pytest.fixture
def old_database(tmp_path: Path) -> Iterator[Database]:
    """A SQLite file for a test to take to an old revision and back (disposed after)."""
    database = Database(f"sqlite:///{tmp_path / 'old.db'}")
    yield database
    database.dispose()


def _rows(database: Database) -> dict[str, list[tuple]]:
    queries = {
        "organisations": "SELECT id, slug, name, country FROM organisations ORDER BY id",
        "contacts": "SELECT id, organisation_id, name, email FROM contacts ORDER BY id",
        "campaigns": "SELECT id, slug, title FROM campaigns ORDER BY id",
        "invitations": "SELECT id, campaign_id, organisation_id, state, text_hash"
        " FROM invitations ORDER BY id",
    }
    with database.engine.connect() as connection:
        return {
            table: [tuple(row) for row in connection.execute(text(query))]
            for table, query in queries.items()
        }


def test_a_database_at_the_first_revision_upgrades_to_head_with_every_row_intact(
    old_database: Database,
) -> None:
    db.upgrade(old_database, FIRST)
    with old_database.engine.begin() as connection:
        for statement in ROWS_AT_FIRST_REVISION:
            connection.execute(text(statement))
    before = _rows(old_database)
    db.upgrade(old_database)
    assert db.current_revision(old_database) == db.head_revision()
    assert _rows(old_database) == before


def test_the_upgraded_database_takes_new_writes(old_database: Database) -> None:
    db.upgrade(old_database, FIRST)
    db.upgrade(old_database)
    with old_database.writing() as session:
        registry.add(session, {"name": "PEN America"}, actor="test")
    with old_database.reading() as session:
        assert events.verify(session, events.REGISTRY_CHAIN) == []


def test_the_models_match_the_newest_migration(database: Database) -> None:
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def _downgrade(database: Database, revision: str) -> None:
    db.downgrade(database, revision)


def _invitation_names(database: Database, columns: str) -> list[tuple]:
    with database.engine.connect() as connection:
        return [
            tuple(row) for row in connection.execute(text(f"SELECT {columns} FROM invitations"))
        ]


def test_a_name_printed_unreviewed_before_0007_becomes_a_pending_proposal(
    old_database: Database,
) -> None:
    db.upgrade(old_database, "0003")
    with old_database.engine.begin() as connection:
        for statement in ROWS_AT_FIRST_REVISION[:4]:
            connection.execute(text(statement))
        connection.execute(
            text(
                "INSERT INTO invitations (id, campaign_id, organisation_id, state, text_hash,"
                " listing, signer_name, display_name, decided_at, created_at, updated_at,"
                " view_count, reminders_sent, version) VALUES (1, 1, 1, 'confirmed', 'abc',"
                " 'public', 'Li Wei', 'Another Org', '2020-08-02 10:00:00',"
                " '2020-08-01 10:00:00', '2020-08-02 10:00:00', 0, 0, 1)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO invitations (id, campaign_id, organisation_id, state, listing,"
                " created_at, updated_at, view_count, reminders_sent, version) VALUES"
                " (2, 1, 2, 'invited', 'public', '2020-08-01 10:00:00', '2020-08-01 10:00:00',"
                " 0, 0, 0)"
            )
        )
    db.upgrade(old_database)
    columns = "id, display_name, proposed_name, proposed_by, proposed_at"
    assert _invitation_names(old_database, columns) == [
        (1, None, "Another Org", "Li Wei", "2020-08-02 10:00:00"),
        (2, None, None, None, None),
    ]
    _downgrade(old_database, "0005")
    assert _invitation_names(old_database, "id, display_name") == [(1, "Another Org"), (2, None)]


def test_a_name_key_stored_with_an_invisible_mark_is_recomputed_without_it(
    old_database: Database,
) -> None:
    db.upgrade(old_database, "0003")
    with old_database.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO organisations (id, slug, name, name_key, sort_name, created_at,"
                " updated_at) VALUES (1, 'hrf', :name, :key, :name, '2020-08-01 10:00:00',"
                " '2020-08-01 10:00:00')"
            ),
            {"name": "Human Rights First\u034f", "key": "humanrightsfirst\u034f"},
        )
    db.upgrade(old_database)
    with old_database.engine.connect() as connection:
        stored = connection.execute(text("SELECT name, name_key FROM organisations")).one()
    assert tuple(stored) == ("Human Rights First\u034f", "humanrightsfirst")
    with (
        old_database.writing() as session,
        pytest.raises(RegistryError, match="already in the registry"),
    ):
        registry.add(session, {"name": "Human Rights First"}, actor="test")


def _counts(database: Database) -> dict[str, int]:
    with database.engine.connect() as connection:
        return {
            table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in ("campaigns", "invitations", "invitation_tokens", "letter_texts")
        }


def _rows_with_children(database: Database) -> None:
    """At 0003: an invitation with a link and a kept text, rows other tables point at."""
    with database.engine.begin() as connection:
        for statement in ROWS_AT_FIRST_REVISION:
            connection.execute(text(statement))
        connection.execute(
            text(
                "INSERT INTO invitation_tokens (id, invitation_id, token_hash, issued_at)"
                " VALUES (1, 1, :hash, '2020-08-01 10:00:00')"
            ),
            {"hash": "f" * 64},
        )
        connection.execute(
            text(
                "INSERT INTO letter_texts (id, campaign_id, text_hash, body, created_at)"
                " VALUES (1, 1, 'abc', 'Text', '2020-08-01 10:00:00')"
            )
        )


@pytest.mark.parametrize("back_to", [None, "0003"], ids=["upgrading", "downgrading"])
def test_the_rows_that_point_at_a_rebuilt_table_are_kept(
    old_database: Database, back_to: str | None
) -> None:
    db.upgrade(old_database, "0003")
    _rows_with_children(old_database)
    db.upgrade(old_database)
    if back_to:
        _downgrade(old_database, back_to)
    # SQLite rebuilds a table to change it; with foreign keys on, its children would go too.
    assert _counts(old_database) == {
        "campaigns": 1, "invitations": 1, "invitation_tokens": 1, "letter_texts": 1,
    }  # fmt: skip


def test_a_campaign_published_before_0013_keeps_its_text_and_has_one_language(
    old_database: Database,
) -> None:
    db.upgrade(old_database, "0008")
    with old_database.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO campaigns (id, slug, title, created_at, published_hash) VALUES"
                " (1, 'founding', 'Founding letter', '2020-08-01 10:00:00', 'abc')"
            )
        )
    db.upgrade(old_database)
    query = "SELECT id, published_hash, published_versions FROM campaigns"
    with old_database.engine.connect() as connection:
        assert [tuple(row) for row in connection.execute(text(query))] == [(1, "abc", None)]
    _downgrade(old_database, "0008")
    with old_database.engine.connect() as connection:
        rows = connection.execute(text("SELECT id, published_hash FROM campaigns"))
        assert [tuple(row) for row in rows] == [(1, "abc")]


def test_existing_consents_upgrade_to_0009_as_not_public_with_every_row_kept(
    old_database: Database,
) -> None:
    db.upgrade(old_database, "0003")
    _rows_with_children(old_database)
    db.upgrade(old_database, "0008")
    before = _rows(old_database)
    db.upgrade(old_database, "0009")
    assert _rows(old_database) == before
    assert _invitation_names(old_database, "id, signer_public") == [(1, False)]
    assert _counts(old_database) == {
        "campaigns": 1, "invitations": 1, "invitation_tokens": 1, "letter_texts": 1,
    }  # fmt: skip
    _downgrade(old_database, "0008")
    assert _rows(old_database) == before
