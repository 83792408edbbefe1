"""The schema check every command makes: the database's revision against Alembic's head."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from coalitionletter import db
from coalitionletter.db import Database
from coalitionletter.errors import DatabaseError, SchemaBehindError


def test_the_programs_head_is_the_last_migration_in_the_versions_folder() -> None:
    # Revision numbers are handed out before branches merge, so the last migration is the
    # one no other revises (read from the files themselves), not the highest number.
    revises: dict[str, str | None] = {}
    for path in (db.MIGRATIONS_DIR / "versions").glob("[0-9]*_*.py"):
        source = path.read_text("utf-8")
        revision = re.search(r'^revision = "(\w+)"', source, re.MULTILINE)
        down = re.search(r'^down_revision = (?:"(\w+)"|None)', source, re.MULTILINE)
        assert revision and down, path.name
        revises[revision.group(1)] = down.group(1)
    last = set(revises) - set(revises.values())
    assert len(last) == 1, f"more than one last migration: {sorted(last)}"
    assert db.alembic_head() == last.pop()


def test_the_head_every_command_checks_against_is_alembics_head() -> None:
    # A new migration must also move db.SCHEMA_HEAD, or commands would call the new
    # schema too new for them.
    assert db.head_revision() == db.alembic_head(), "set db.SCHEMA_HEAD to the new migration"


def test_current_revision_is_what_alembic_reads(database: Database) -> None:
    with database.engine.connect() as connection:
        expected = MigrationContext.configure(connection).get_current_revision()
    assert db.current_revision(database) == expected == db.head_revision()


def test_a_database_never_set_up_has_no_revision(tmp_path: Path) -> None:
    empty = Database(f"sqlite:///{tmp_path / 'empty.db'}")
    assert db.current_revision(empty) is None
    empty.dispose()


def test_a_database_behind_the_head_is_refused_and_left_as_it_is(database: Database) -> None:
    with database.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    with pytest.raises(SchemaBehindError, match="older than this program's"):
        db.require_current(database)
    assert db.current_revision(database) == "0001"


def test_a_database_made_by_a_newer_program_is_refused_as_newer(database: Database) -> None:
    with database.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0999'"))
    with pytest.raises(DatabaseError, match="a newer version of coalitionletter made it") as err:
        db.require_current(database)
    assert "older" not in str(err.value)
    assert not isinstance(err.value, SchemaBehindError)  # `init` cannot help here
    assert db.current_revision(database) == "0999"


def test_the_schema_check_does_not_load_alembics_scripts() -> None:
    # Every command checks the schema; Alembic's script machinery is for migrating.
    probe = (
        "import sys\n"
        "from coalitionletter import db\n"
        "db.head_revision()\n"
        "print('alembic.script' in sys.modules)\n"
        "db.alembic_head()\n"
        "print('alembic.script' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["False", "True"]
