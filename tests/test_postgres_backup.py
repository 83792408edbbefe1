"""backup on PostgreSQL: a pg_dump archive that restores every row, or exact instructions."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from coalitionletter import events
from coalitionletter.db import Database
from coalitionletter.errors import DatabaseError
from coalitionletter.models import Event, Organisation
from coalitionletter.workspace import setup as workspace


def _add_organisations(database: Database, count: int) -> None:
    with database.writing() as session:
        for number in range(count):
            slug = f"org-{number}"
            session.add(Organisation(slug=slug, name=slug, name_key=slug, sort_name=slug))
        events.record(session, chain="registry", kind="note", actor="staff")


def _restore(archive: Path, url: str) -> None:
    parsed = make_url(url)
    libpq = parsed._replace(drivername="postgresql", password=None).render_as_string(False)
    subprocess.run(
        ["pg_restore", "--no-owner", f"--dbname={libpq}", str(archive)],
        check=True,
        capture_output=True,
        env={"PGPASSWORD": parsed.password or "", "PATH": "/usr/bin:/bin"},
    )


@pytest.mark.postgres
def test_backup_writes_a_pg_dump_archive_that_restores_every_row(
    pg_database: Database, postgres_server, tmp_path: Path
) -> None:
    _add_organisations(pg_database, 12)
    archive = tmp_path / "letters.dump"
    summary = workspace.backup(pg_database, archive)
    assert archive.read_bytes().startswith(b"PGDMP")  # pg_dump's custom format
    assert "read back by pg_restore" in summary
    restored = Database(postgres_server.url_for(postgres_server.new_database(migrated=False)))
    _restore(archive, restored.url)
    with restored.reading() as session:
        assert session.scalar(select(func.count()).select_from(Organisation)) == 12
        assert events.verify(session, "registry") == []
        assert session.scalar(select(func.count()).select_from(Event)) == 1
    restored.dispose()


@pytest.mark.postgres
def test_backup_never_shows_the_database_password(pg_database: Database, tmp_path: Path) -> None:
    summary = workspace.backup(pg_database, tmp_path / "letters.dump")
    password = make_url(pg_database.url).password
    assert password
    assert password not in summary


@pytest.mark.postgres
def test_backup_refuses_to_overwrite_an_existing_file(
    pg_database: Database, tmp_path: Path
) -> None:
    archive = tmp_path / "letters.dump"
    archive.write_text("an older backup")
    with pytest.raises(
        DatabaseError, match=r"already exists\. Choose another name or pass --force"
    ):
        workspace.backup(pg_database, archive)
    assert archive.read_text() == "an older backup"


@pytest.mark.postgres
def test_a_failed_pg_dump_says_why_and_leaves_no_file(
    pg_database: Database, tmp_path: Path
) -> None:
    wrong = Database(make_url(pg_database.url).set(password="wrong").render_as_string(False))
    archive = tmp_path / "letters.dump"
    with pytest.raises(DatabaseError, match="password authentication failed") as raised:
        workspace.backup(wrong, archive)
    assert "Nothing was written to" in str(raised.value)
    assert list(tmp_path.iterdir()) == []


def test_without_pg_dump_backup_says_exactly_how_to_back_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH on which there is no pg_dump
    database = Database("postgresql+psycopg://coalition:s3cret@db.example.org:5433/letters")
    archive = tmp_path / "letters.dump"
    with pytest.raises(DatabaseError) as raised:
        workspace.backup(database, archive)
    message = str(raised.value)
    assert "pg_dump was not found on PATH, so nothing was backed up" in message
    assert (
        f"pg_dump --format=custom --file {archive} "
        "'postgresql://coalition@db.example.org:5433/letters'" in message
    )
    assert "s3cret" not in message
    assert not archive.exists()
