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


def _migrations(tmp_path: Path, monkeypatch, files: dict[str, str]) -> None:
    """A migrations folder holding `files` (name -> text), in place of the package's."""
    versions = tmp_path / "versions"
    versions.mkdir()
    for name, content in files.items():
        (versions / name).write_text(content)
    monkeypatch.setattr(db, "MIGRATIONS_DIR", tmp_path)


@pytest.mark.parametrize(
    "files",
    [
        {
            "a.py": 'revision = "a"\ndown_revision = None\n',
            "b.py": 'revision = "b"\ndown_revision = "a"\n',
            "c.py": 'revision = "c"\ndown_revision = "a"\n',
        },
        {
            "a.py": 'revision = "a"\ndown_revision = None\n',
            "m.py": 'revision = "m"\ndown_revision = ("a", "b")\n',
        },
        {
            "a.py": 'revision = "a"\ndown_revision = None\n',
            "b.py": 'revision = "b"\ndown_revision = "a"\nrevision = "c"\n',
        },
    ],
    ids=["branched-chain", "merge-revision", "revision-assigned-twice"],
)
def test_a_chain_that_is_not_plain_is_left_to_alembic(
    tmp_path: Path, monkeypatch, files: dict[str, str]
) -> None:
    _migrations(tmp_path, monkeypatch, files)
    assert db._plain_chain_head() is None


def test_a_straight_chain_gives_its_last_revision(tmp_path: Path, monkeypatch) -> None:
    _migrations(
        tmp_path,
        monkeypatch,
        {
            "a.py": "revision = 'a'\ndown_revision = None\n",
            "b.py": 'revision: str = "b"\ndown_revision: str | None = "a"\n',
        },
    )
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
