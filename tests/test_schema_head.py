"""The schema check every command makes: read without importing Alembic, same answer as it."""

from pathlib import Path

import pytest
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text

from coalitionletter import db
from coalitionletter.db import Database
from coalitionletter.errors import SchemaBehindError


def test_head_read_from_the_migration_files_is_alembics_head() -> None:
    script = ScriptDirectory.from_config(db._alembic_config("sqlite://"))
    assert db._plain_chain_head() == script.get_current_head()


def test_a_branched_chain_is_left_to_alembic(tmp_path: Path, monkeypatch) -> None:
    versions = tmp_path / "versions"
    versions.mkdir()
    (versions / "a.py").write_text('revision = "a"\ndown_revision = None\n')
    (versions / "b.py").write_text('revision = "b"\ndown_revision = "a"\n')
    (versions / "c.py").write_text('revision = "c"\ndown_revision = "a"\n')
    monkeypatch.setattr(db, "MIGRATIONS_DIR", tmp_path)
    assert db._plain_chain_head() is None


def test_a_merge_revision_is_left_to_alembic(tmp_path: Path, monkeypatch) -> None:
    versions = tmp_path / "versions"
    versions.mkdir()
    (versions / "a.py").write_text('revision = "a"\ndown_revision = None\n')
    (versions / "m.py").write_text('revision = "m"\ndown_revision = ("a", "b")\n')
    monkeypatch.setattr(db, "MIGRATIONS_DIR", tmp_path)
    assert db._plain_chain_head() is None


def test_a_file_assigning_its_revision_twice_is_left_to_alembic(
    tmp_path: Path, monkeypatch
) -> None:
    versions = tmp_path / "versions"
    versions.mkdir()
    (versions / "a.py").write_text('revision = "a"\ndown_revision = None\n')
    (versions / "b.py").write_text('revision = "b"\ndown_revision = "a"\nrevision = "c"\n')
    monkeypatch.setattr(db, "MIGRATIONS_DIR", tmp_path)
    assert db._plain_chain_head() is None


def test_a_straight_chain_gives_its_last_revision(tmp_path: Path, monkeypatch) -> None:
    versions = tmp_path / "versions"
    versions.mkdir()
    (versions / "a.py").write_text("revision = 'a'\ndown_revision = None\n")
    (versions / "b.py").write_text('revision: str = "b"\ndown_revision: str | None = "a"\n')
    monkeypatch.setattr(db, "MIGRATIONS_DIR", tmp_path)
    assert db._plain_chain_head() == "b"


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
