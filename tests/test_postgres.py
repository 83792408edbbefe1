"""PostgreSQL is a setting: the same schema, the same commands, clear errors if it is not there."""

from __future__ import annotations

import gc
import re
import socket
import warnings
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from coalitionletter.cli import cli
from coalitionletter.db import Database, current_revision, head_revision
from coalitionletter.errors import DatabaseError
from coalitionletter.models import Base, Organisation

CAMPAIGN = "ilp-magnitsky-2020"


def _unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_migrations_build_the_schema_the_models_describe(database: Database) -> None:
    with database.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []
    assert current_revision(database) == head_revision()


def test_a_plain_postgresql_url_means_psycopg_3() -> None:
    for url in ("postgresql://coalition@db.example.org/letters", "postgres://c@db/letters"):
        database = Database(url)
        assert database.engine.dialect.driver == "psycopg"
        assert database.url.startswith("postgresql+psycopg://")


def test_a_missing_driver_is_named_with_what_to_install() -> None:
    with pytest.raises(DatabaseError) as raised:
        Database("postgresql+psycopg2://coalition:s3cret@db.example.org/letters")
    message = str(raised.value)
    assert "The driver for postgresql+psycopg2 is not installed (psycopg2)" in message
    assert "postgresql+psycopg://" in message
    assert "s3cret" not in message


def test_a_database_other_than_sqlite_or_postgresql_is_refused_clearly() -> None:
    with pytest.raises(DatabaseError) as raised:
        Database("mysql://coalition:s3cret@db.example.org/letters")
    message = str(raised.value)
    assert "mysql://coalition:***@db.example.org/letters is neither SQLite nor PostgreSQL" in (
        message
    )
    assert "s3cret" not in message


def test_an_unknown_postgresql_driver_is_refused_clearly() -> None:
    with pytest.raises(DatabaseError, match=r"'postgresql\+nosuch' in .* is not a PostgreSQL"):
        Database("postgresql+nosuch://coalition@db.example.org/letters")


def test_an_unreachable_server_is_reported_without_the_password(home: Path) -> None:
    url = f"postgresql+psycopg://coalition:s3cret@127.0.0.1:{_unused_port()}/letters"
    result = CliRunner().invoke(cli, ["--home", str(home), "--db", url, "counts"])
    assert result.exit_code == 1
    assert "Cannot open the database postgresql+psycopg://coalition:***@127.0.0.1:" in (
        result.output
    )
    assert "Check that the server is running" in result.output
    assert "s3cret" not in result.output
    assert list(home.iterdir()) == []  # no SQLite file made instead


@pytest.mark.postgres
def test_a_read_session_cannot_write_on_postgresql(pg_database: Database) -> None:
    with pytest.raises(DBAPIError, match="read-only transaction"), pg_database.reading() as s:
        s.add(Organisation(slug="x", name="X", name_key="x", sort_name="x"))
        s.flush()
    with pg_database.reading() as session:
        assert session.query(Organisation).count() == 0


@pytest.mark.postgres
def test_a_database_let_go_closes_its_connections_cleanly(pg_url: str) -> None:
    name = make_url(pg_url).database
    database = Database(pg_url)
    with database.reading() as session:
        session.execute(text("SELECT 1"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        del database, session
        gc.collect()
    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []
    watcher = Database(pg_url.replace(f"/{name}", "/postgres"))
    with watcher.reading() as session:
        count = text("SELECT count(*) FROM pg_stat_activity WHERE datname = :name")
        assert session.execute(count, {"name": name}).scalar() == 0
    watcher.dispose()


@pytest.mark.postgres
def test_writes_run_under_read_committed(pg_database: Database) -> None:
    with pg_database.writing() as session:
        level = session.execute(text("SHOW transaction_isolation")).scalar()
    assert level == "read committed"


JOURNEY = (
    ["init"],
    ["org", "add", "Uyghur Human Rights Project", "--country", "US", "--email", "a@u.example"],
    ["org", "list", "--format", "csv"],
    ["org", "show", "uyghur-human-rights-project"],
    ["org", "export", "-", "--format", "json"],
    ["invite", CAMPAIGN, "--org", "uyghur-human-rights-project", "--outbox", "{home}/outbox"],
    ["remind", CAMPAIGN, "--outbox", "{home}/outbox"],
    ["sign", CAMPAIGN, "uyghur-human-rights-project", "--confirm", "--signer", "Omer Kanat",
     "--title", "Executive Director"],
    ["sign", CAMPAIGN, "uyghur-human-rights-project", "--withdraw"],
    ["counts", CAMPAIGN, "--by", "country", "--format", "csv"],
    ["export", CAMPAIGN, "--format", "json"],
    ["build", CAMPAIGN, "--format", "html", "--quiet"],
    ["audit", CAMPAIGN, "--verify"],
    ["close", CAMPAIGN, "--yes"],
    ["sign", CAMPAIGN, "uyghur-human-rights-project", "--confirm", "--signer", "O. K.",
     "--title", "Director"],
    ["counts"],
)  # fmt: skip
MOMENT = re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d(:\d\d(\.\d+)?)?([+-]\d\d:?\d\d|Z| UTC)?")
# A trail's anchor hashes its entries' times, so it differs between any two runs.
ANCHOR = re.compile(r"\b\d+:[0-9a-f]{64}\b")


def _journey(db_args: list[str], home: Path) -> list[str]:
    """Each command of the journey with its exit code and output, times and paths masked."""
    runner = CliRunner()
    outputs = []
    for command in JOURNEY:
        args = [arg.replace("{home}", str(home)) for arg in command]
        result = runner.invoke(cli, ["--home", str(home), *db_args, *args])
        output = MOMENT.sub("<time>", result.output.replace(str(home), "<home>"))
        output = ANCHOR.sub("<anchor>", output)
        outputs.append(f"$ {' '.join(command)} -> {result.exit_code}\n{output}")
    return outputs


@pytest.mark.postgres
@pytest.mark.slow
def test_every_command_prints_the_same_on_postgresql_as_on_sqlite(
    founding_home: Path, pg_url: str, tmp_path: Path
) -> None:
    import shutil

    sqlite_home = tmp_path / "sqlite-workspace"
    shutil.copytree(founding_home, sqlite_home)
    on_sqlite = _journey([], sqlite_home)
    on_postgres = _journey(["--db", pg_url], founding_home)
    # init names the database it made; every other line must be the same.
    assert on_postgres[1:] == on_sqlite[1:]
    assert on_postgres[0].splitlines()[2:] == on_sqlite[0].splitlines()[2:]
    assert all(" -> 0\n" in output for output in on_postgres[:-2]), on_postgres
    assert " -> 1\n" in on_postgres[-2]  # the closed campaign refuses, on both


@pytest.mark.postgres
def test_init_on_postgresql_never_prints_the_password(pg_url: str, home: Path) -> None:
    url = make_url(pg_url)
    assert url.password  # the throwaway server asks for one (scram-sha-256)
    result = CliRunner().invoke(cli, ["--home", str(home), "--db", pg_url, "init"])
    assert result.exit_code == 0, result.output
    assert url.database in result.output  # positive control: init names the database it made
    assert url.password not in result.output


@pytest.mark.postgres
def test_a_refused_password_is_reported_without_the_password(pg_url: str, home: Path) -> None:
    wrong = make_url(pg_url).set(password="s3cret-password")
    url = wrong.render_as_string(hide_password=False)
    result = CliRunner().invoke(cli, ["--home", str(home), "--db", url, "init"])
    assert result.exit_code == 1
    assert "Cannot open the database" in result.output
    assert "s3cret-password" not in result.output
