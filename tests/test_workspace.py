"""The workspace: init creates, upgrades and seeds the database; backup copies it safely."""

import sqlite3
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest
from click.testing import Result
from sqlalchemy import func, select

from coalitionletter import db
from coalitionletter.db import Database
from coalitionletter.models import Invitation, Organisation
from coalitionletter.settings import Settings
from fixtures_registry import snapshot, start_writer, writer_result

Invoke = Callable[..., Result]
SEED_NAMES = {
    "International Lawyers Project (ILP)",
    "Human Rights First",
    "Human Rights Foundation",
    "International Partnership for Human Rights",
    "Justice For All",
    "PEN America",
}


def _database(settings: Settings) -> Database:
    return Database(settings.db_url)


def _ok(result: Result) -> str:
    assert result.exit_code == 0, result.output
    return result.output


def test_init_creates_the_database_and_loads_the_seed_as_confirmed_signatories(
    founding_home: Path, invoke: Invoke, settings: Settings
) -> None:
    output = _ok(invoke("init"))
    assert "Created the database" in output
    assert "6 organisations added to the registry, 6 recorded as confirmed" in output
    database = _database(settings)
    with database.reading() as session:
        assert set(session.scalars(select(Organisation.name))) == SEED_NAMES
        states = list(session.scalars(select(Invitation.state)))
    database.dispose()
    assert states == ["confirmed"] * 6


def test_init_keeps_a_seed_signatory_who_asked_to_be_named_only_to_governments(
    founding_home: Path, invoke: Invoke, settings: Settings
) -> None:
    seed = founding_home / "letters" / "ilp-magnitsky-2020" / "signatories.csv"
    seed.write_text(
        seed.read_text(encoding="utf-8") + "Example Exile Network,,,governments_only,\n",
        encoding="utf-8",
    )
    _ok(invoke("init"))
    database = _database(settings)
    with database.reading() as session:
        listings = dict(
            session.execute(
                select(Organisation.name, Invitation.listing).join(
                    Invitation, Invitation.organisation_id == Organisation.id
                )
            ).all()
        )
    database.dispose()
    assert listings["Example Exile Network"] == "governments_only"
    assert listings["PEN America"] == "public"


def test_the_seed_keeps_countries_where_known_and_leaves_the_rest_empty(
    founding_home: Path, invoke: Invoke, settings: Settings
) -> None:
    _ok(invoke("init"))
    database = _database(settings)
    with database.reading() as session:
        countries = dict(session.execute(select(Organisation.name, Organisation.country)).all())
    database.dispose()
    assert countries["PEN America"] == "US"
    assert countries["International Lawyers Project (ILP)"] is None


def test_init_run_again_changes_nothing(
    founding_home: Path, invoke: Invoke, settings: Settings
) -> None:
    _ok(invoke("init"))
    database = _database(settings)
    before = snapshot(database)
    output = _ok(invoke("init"))
    assert "The database is up to date" in output
    assert "seed already loaded; nothing changed" in output
    assert snapshot(database) == before
    database.dispose()


def test_after_init_the_seventy_organisation_export_imports_cleanly(
    founding_home: Path, invoke: Invoke, seventy_csv: Path
) -> None:
    _ok(invoke("init"))
    output = _ok(invoke("org", "import", str(seventy_csv)))
    assert "70 organisations were added, 0 updated, 0 skipped" in output
    assert "76 organisation(s)." in _ok(invoke("org", "list"))


def test_a_command_on_a_database_whose_schema_is_behind_says_run_init_and_changes_nothing(
    home: Path, invoke: Invoke, settings: Settings
) -> None:
    database = _database(settings)
    db.upgrade(database, "0001")
    before = snapshot_tables(database)
    result = invoke("org", "add", "PEN America")
    assert result.exit_code == 1
    assert "Run `coalitionletter init` to upgrade it" in result.output
    assert db.current_revision(database) == "0001"
    assert snapshot_tables(database) == before
    database.dispose()


def snapshot_tables(database: Database) -> list[tuple[str, int]]:
    """Every table and its row count."""
    with database.engine.connect() as connection:
        return [
            (name, connection.exec_driver_sql(f'SELECT count(*) FROM "{name}"').scalar_one())
            for name in sorted(db.table_names(database))
        ]


def _wait_for_writes(database: Database) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with database.reading() as session:
            if session.scalar(select(func.count()).select_from(Organisation)) > len(SEED_NAMES):
                return
        time.sleep(0.05)
    raise AssertionError("the writer process never wrote")


@pytest.mark.slow
@pytest.mark.sqlite_only
def test_backup_taken_while_another_process_writes_passes_the_integrity_check(
    founding_home: Path, invoke: Invoke, settings: Settings, tmp_path: Path
) -> None:
    _ok(invoke("init"))
    database = _database(settings)
    writer = start_writer(database.url, "Busy Writer", 2.5)
    try:
        _wait_for_writes(database)
        copies = []
        for number in range(3):
            target = tmp_path / f"copy-{number}.db"
            assert "integrity check: ok" in _ok(invoke("backup", str(target)))
            copies.append(target)
    finally:
        added, locked = writer_result(writer)
    assert locked == 0
    assert added > 0
    for copy in copies:
        with closing(sqlite3.connect(copy)) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            count = connection.execute("SELECT count(*) FROM organisations").fetchone()[0]
        assert count >= len(SEED_NAMES)
    database.dispose()


@pytest.mark.sqlite_only
def test_backup_refuses_to_overwrite_a_file(
    founding_home: Path, invoke: Invoke, tmp_path: Path
) -> None:
    _ok(invoke("init"))
    target = tmp_path / "copy.db"
    target.write_text("keep me")
    result = invoke("backup", str(target))
    assert result.exit_code == 1
    assert "already exists" in result.output
    assert target.read_text() == "keep me"


@pytest.mark.sqlite_only
def test_a_command_before_init_says_so_and_creates_no_database_file(
    home: Path, invoke: Invoke
) -> None:
    result = invoke("org", "list")
    assert result.exit_code == 1
    assert "has not been set up. Run `coalitionletter init` first." in result.output
    assert list(home.iterdir()) == []


def test_init_keeps_the_words_the_seed_signatories_agreed_to(
    founding_home: Path, invoke: Invoke, settings: Settings
) -> None:
    from coalitionletter.campaigns import catalogue as campaigns
    from coalitionletter.signon import consent

    _ok(invoke("init"))
    definition = campaigns.load(settings, "ilp-magnitsky-2020")
    database = _database(settings)
    with database.reading() as session:
        campaign = campaigns.campaign_row(session, definition.slug)
        kept = consent.recalled(session, campaign.id, definition.text_hash)
    database.dispose()
    assert kept is not None
    assert "Global Magnitsky" in kept
