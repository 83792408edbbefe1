"""Every file that names organisations or contacts is readable by its owner only.

Each test runs under umask 022, the usual default, under which an ordinary
file is created readable by everyone (the positive control in each test).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from coalitionletter.db import Database
from coalitionletter.private_files import private_folder, write_private
from coalitionletter.settings import Settings
from fixtures_counts import COUNTS_SLUG, CountsWorld
from fixtures_letters import LEAD_NAME, Org
from fixtures_signon import SLUG, SignOnWorkspace

FOUNDING = "ilp-magnitsky-2020"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    """Umask 022: what a file gets unless the program says otherwise is 0644."""
    before = os.umask(0o022)
    yield
    os.umask(before)


@pytest.fixture
def ordinary_mode(tmp_path: Path) -> int:
    """The mode an ordinary new file gets here: the positive control."""
    control = tmp_path / "control.txt"
    control.write_text("anyone may read this")
    return mode(control)


def test_the_umask_would_let_everyone_read_an_ordinary_file(ordinary_mode: int) -> None:
    assert ordinary_mode == 0o644


def test_a_private_file_is_owner_only_and_replaces_the_old_one_whole(tmp_path: Path) -> None:
    target = tmp_path / "list.csv"
    target.write_text("old")
    write_private(target, b"new")
    assert target.read_bytes() == b"new"
    assert mode(target) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["list.csv"]


def test_a_private_folder_is_owner_only_even_one_made_before(tmp_path: Path) -> None:
    fresh = private_folder(tmp_path / "fresh")
    loose = tmp_path / "loose"
    loose.mkdir(mode=0o755)
    private_folder(loose)
    assert (mode(fresh), mode(loose)) == (0o700, 0o700)


@pytest.mark.sqlite_only
def test_the_database_and_its_wal_and_shm_files_are_owner_only(
    invoke, home: Path, settings: Settings, ordinary_mode: int
) -> None:
    result = invoke("init")
    assert result.exit_code == 0, result.output
    database = Database(settings.db_url)
    path = home / "signatories.db"
    try:
        with database.writing() as session:
            session.execute(text("CREATE TABLE scratch (x)"))
            # While a connection is open, SQLite keeps the -wal and -shm files.
            modes = {p.name: mode(p) for p in home.iterdir() if p.name.startswith(path.name)}
    finally:
        database.dispose()
    assert modes == {
        "signatories.db": 0o600,
        "signatories.db-wal": 0o600,
        "signatories.db-shm": 0o600,
    }
    assert ordinary_mode == 0o644


@pytest.mark.sqlite_only
def test_a_database_left_readable_by_others_is_made_owner_only(
    invoke, home: Path, ordinary_mode: int
) -> None:
    assert invoke("init").exit_code == 0
    path = home / "signatories.db"
    path.chmod(0o644)
    result = invoke("org", "list")
    assert result.exit_code == 0, result.output
    assert mode(path) == 0o600


@pytest.mark.sqlite_only
def test_a_backup_is_owner_only(founding_home: Path, invoke, tmp_path: Path) -> None:
    assert invoke("init").exit_code == 0
    target = tmp_path / "copy.db"
    result = invoke("backup", str(target))
    assert result.exit_code == 0, result.output
    assert mode(target) == 0o600


def test_the_delivered_export_and_the_count_sheet_are_owner_only(
    counts_world: CountsWorld, invoke, tmp_path: Path, ordinary_mode: int
) -> None:
    delivered = tmp_path / "for-governments.csv"
    result = invoke("export", COUNTS_SLUG, "--delivered", "--output", str(delivered))
    assert result.exit_code == 0, result.output
    sheet = tmp_path / "sheet.html"
    result = invoke("counts", COUNTS_SLUG, "--html", str(sheet))
    assert result.exit_code == 0, result.output
    assert (mode(delivered), mode(sheet)) == (0o600, 0o600)
    assert "Exiled Voices" in delivered.read_text("utf-8-sig")


def test_org_export_is_owner_only(
    founding_home: Path, invoke, tmp_path: Path, ordinary_mode: int
) -> None:
    assert invoke("init").exit_code == 0
    target = tmp_path / "registry.csv"
    result = invoke("org", "export", str(target))
    assert result.exit_code == 0, result.output
    assert mode(target) == 0o600
    assert len(target.read_text("utf-8-sig").splitlines()) > 1


def test_delivered_letters_are_owner_only_and_public_ones_are_not(
    invoke, founding, add_signatories, founding_home: Path
) -> None:
    add_signatories(
        founding, [LEAD_NAME, "Open Rights", Org("Hidden Voices", listing="governments_only")]
    )
    result = invoke("build", "--format", "html", "-q")
    assert result.exit_code == 0, result.output
    out = founding_home / "letters" / FOUNDING / "out"
    modes = {p.name: mode(p) for p in out.iterdir() if not p.name.startswith(".")}
    delivered = {name: m for name, m in modes.items() if ".delivered." in name}
    public = {name: m for name, m in modes.items() if ".public." in name}
    assert set(delivered) == {
        "uk.delivered.html",
        "canada.delivered.html",
        "signatories.delivered.csv",
        "signatories.delivered.json",
    }
    assert set(delivered.values()) == {0o600}
    assert public and set(public.values()) == {0o644}


def test_the_outbox_folder_and_its_messages_are_owner_only(
    signon_workspace: SignOnWorkspace, invoke, tmp_path: Path
) -> None:
    folder = tmp_path / "outbox"
    result = invoke("invite", SLUG, "--all", "--outbox", str(folder))
    assert result.exit_code == 0, result.output
    messages = list(folder.glob("*.eml"))
    assert messages
    assert mode(folder) == 0o700
    assert {mode(path) for path in messages} == {0o600}


@pytest.mark.postgres
def test_a_postgresql_backup_is_owner_only(pg_database: Database, tmp_path: Path) -> None:
    from coalitionletter.workspace import setup as workspace

    archive = tmp_path / "letters.dump"
    workspace.backup(pg_database, archive)
    assert archive.read_bytes().startswith(b"PGDMP")
    assert mode(archive) == 0o600
