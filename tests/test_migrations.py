"""Schema versions: an old database upgrades in place with every row kept; models match head."""

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


def _database(tmp_path: Path) -> Database:
    return Database(f"sqlite:///{tmp_path / 'old.db'}")


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
    tmp_path: Path,
) -> None:
    database = _database(tmp_path)
    db.upgrade(database, FIRST)
    with database.engine.begin() as connection:
        for statement in ROWS_AT_FIRST_REVISION:
            connection.execute(text(statement))
    before = _rows(database)
    db.upgrade(database)
    assert db.current_revision(database) == db.head_revision()
    assert _rows(database) == before
    database.dispose()


def test_the_upgraded_database_takes_new_writes(tmp_path: Path) -> None:
    database = _database(tmp_path)
    db.upgrade(database, FIRST)
    db.upgrade(database)
    with database.writing() as session:
        registry.add(session, {"name": "PEN America"}, actor="test")
    with database.reading() as session:
        assert events.verify(session, events.REGISTRY_CHAIN) == []
    database.dispose()


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


def test_a_name_printed_unreviewed_before_0007_becomes_a_pending_proposal(tmp_path: Path) -> None:
    database = _database(tmp_path)
    db.upgrade(database, "0003")
    with database.engine.begin() as connection:
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
    db.upgrade(database)
    columns = "id, display_name, proposed_name, proposed_by, proposed_at"
    assert _invitation_names(database, columns) == [
        (1, None, "Another Org", "Li Wei", "2020-08-02 10:00:00"),
        (2, None, None, None, None),
    ]
    _downgrade(database, "0005")
    assert _invitation_names(database, "id, display_name") == [(1, "Another Org"), (2, None)]
    database.dispose()


def test_a_name_key_stored_with_an_invisible_mark_is_recomputed_without_it(
    tmp_path: Path,
) -> None:
    database = _database(tmp_path)
    db.upgrade(database, "0003")
    with database.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO organisations (id, slug, name, name_key, sort_name, created_at,"
                " updated_at) VALUES (1, 'hrf', :name, :key, :name, '2020-08-01 10:00:00',"
                " '2020-08-01 10:00:00')"
            ),
            {"name": "Human Rights First\u034f", "key": "humanrightsfirst\u034f"},
        )
    db.upgrade(database)
    with database.engine.connect() as connection:
        stored = connection.execute(text("SELECT name, name_key FROM organisations")).one()
    assert tuple(stored) == ("Human Rights First\u034f", "humanrightsfirst")
    with (
        database.writing() as session,
        pytest.raises(RegistryError, match="already in the registry"),
    ):
        registry.add(session, {"name": "Human Rights First"}, actor="test")
    database.dispose()


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


def test_upgrading_keeps_the_rows_that_point_at_a_rebuilt_table(tmp_path: Path) -> None:
    database = _database(tmp_path)
    db.upgrade(database, "0003")
    _rows_with_children(database)
    db.upgrade(database)
    # SQLite rebuilds a table to change it; with foreign keys on, its children would go too.
    assert _counts(database) == {
        "campaigns": 1, "invitations": 1, "invitation_tokens": 1, "letter_texts": 1,
    }  # fmt: skip
    database.dispose()


def test_downgrading_keeps_the_rows_that_point_at_a_rebuilt_table(tmp_path: Path) -> None:
    database = _database(tmp_path)
    db.upgrade(database, "0003")
    _rows_with_children(database)
    db.upgrade(database)
    _downgrade(database, "0003")
    assert _counts(database) == {
        "campaigns": 1, "invitations": 1, "invitation_tokens": 1, "letter_texts": 1,
    }  # fmt: skip
    database.dispose()


def test_a_campaign_published_before_0013_keeps_its_text_and_has_one_language(
    tmp_path: Path,
) -> None:
    database = _database(tmp_path)
    db.upgrade(database, "0008")
    with database.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO campaigns (id, slug, title, created_at, published_hash) VALUES"
                " (1, 'founding', 'Founding letter', '2020-08-01 10:00:00', 'abc')"
            )
        )
    db.upgrade(database)
    query = "SELECT id, published_hash, published_versions FROM campaigns"
    with database.engine.connect() as connection:
        assert [tuple(row) for row in connection.execute(text(query))] == [(1, "abc", None)]
    _downgrade(database, "0008")
    with database.engine.connect() as connection:
        rows = connection.execute(text("SELECT id, published_hash FROM campaigns"))
        assert [tuple(row) for row in rows] == [(1, "abc")]
    database.dispose()


def test_existing_consents_upgrade_to_0009_as_not_public_with_every_row_kept(
    tmp_path: Path,
) -> None:
    database = _database(tmp_path)
    db.upgrade(database, "0003")
    _rows_with_children(database)
    db.upgrade(database, "0008")
    before = _rows(database)
    db.upgrade(database, "0009")
    assert _rows(database) == before
    assert _invitation_names(database, "id, signer_public") == [(1, False)]
    assert _counts(database) == {
        "campaigns": 1, "invitations": 1, "invitation_tokens": 1, "letter_texts": 1,
    }  # fmt: skip
    _downgrade(database, "0008")
    assert _rows(database) == before
    database.dispose()
