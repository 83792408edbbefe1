"""Setting up a workspace's database (init) and copying it safely (backup)."""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import make_url

from coalitionletter import db
from coalitionletter.campaigns import catalogue as campaigns
from coalitionletter.db import Database
from coalitionletter.errors import DatabaseError, StorageError
from coalitionletter.faults import disk_state, explain
from coalitionletter.models import Invitation, Listing
from coalitionletter.private_files import create_private_file
from coalitionletter.registry import importing as registry_import
from coalitionletter.settings import Settings
from coalitionletter.signon import consent
from coalitionletter.signon import states as signon

log = logging.getLogger(__name__)
SEED_ACTOR = "seed"


def initialise(settings: Settings, database: Database) -> list[str]:
    """Create or upgrade the schema, register each campaign and load its seed; report lines."""
    before = db.current_revision(database)
    db.upgrade(database)
    after = db.current_revision(database)
    if before is None:
        lines = [f"Created the database at schema {after}: {database.display_url}"]
    elif before != after:
        lines = [f"Upgraded the database from schema {before} to {after}; every row kept."]
    else:
        lines = [f"The database is up to date (schema {after})."]
    for slug in campaigns.discover(settings):
        lines.append(_load_campaign(settings, database, slug))
    return lines


def _load_campaign(settings: Settings, database: Database, slug: str) -> str:
    definition = campaigns.load(settings, slug)
    with database.writing() as session:
        campaign = campaigns.sync(session, definition)
        # Keep the words as they stand now, so a later `reconfirm` can show the seed
        # signatories (and anyone else) exactly what changed since they agreed.
        for version in definition.versions:
            consent.remember(session, campaign.id, consent.current(definition, version.language))
        if definition.seed_path is None:
            return f"Campaign {slug}: registered (no seed file)."
        report = registry_import.import_file(
            session, definition.seed_path, update=False, dry_run=False, actor=SEED_ACTOR
        )
        signed = {
            row[0]
            for row in session.execute(
                select(Invitation.organisation_id).where(Invitation.campaign_id == campaign.id)
            )
        }
        confirmed = 0
        listings = report.listings()
        for organisation_id in report.organisation_ids():
            if organisation_id in signed:
                continue
            signon.transition(
                session,
                campaign,
                organisation_id,
                "confirm",
                actor=f"{SEED_ACTOR}: {definition.seed_path.name}",
                text_hash=definition.text_hash,
                fields={"listing": listings.get(organisation_id, Listing.PUBLIC.value)},
                detail={"source": "seed"},
            )
            signed.add(organisation_id)
            confirmed += 1
    if confirmed == 0 and report.added == 0:
        return f"Campaign {slug}: seed already loaded; nothing changed."
    return (
        f"Campaign {slug}: {report.added} organisations added to the registry, "
        f"{confirmed} recorded as confirmed signatories from {definition.seed_path.name}."
    )


def _integrity_check(path: Path) -> str:
    with closing(sqlite3.connect(path)) as connection:
        return connection.execute("PRAGMA integrity_check").fetchone()[0]


def _libpq_url(database: Database) -> str:
    # URL.set() cannot clear a field (None means "keep"); _replace can.
    url = make_url(database.url)._replace(drivername="postgresql", password=None)
    return url.render_as_string(hide_password=False)


def _pg_dump_command(database: Database, destination: Path) -> str:
    return f"pg_dump --format=custom --file {destination} '{_libpq_url(database)}'"


def _run_checked(arguments: list[str], password: str | None, what: str) -> str:
    # The password goes to pg_dump in its environment, never on its command
    # line, where anyone on the machine could read it in the process list.
    environment = {**os.environ, "PGPASSWORD": password} if password else None
    try:
        result = subprocess.run(  # noqa: S603 - a fixed program with arguments, no shell
            arguments, capture_output=True, text=True, env=environment, check=False
        )
    except OSError as exc:
        raise DatabaseError(f"{what} failed: cannot run {arguments[0]} ({exc.strerror}).") from exc
    if result.returncode != 0:
        raise DatabaseError(f"{what} failed: {result.stderr.strip() or result.stdout.strip()}")
    return result.stdout


def _partial_file(destination: Path, overwrite: bool) -> Path:
    """Check the destination may be written; the file to write first, then rename."""
    if destination.exists() and not overwrite:
        raise DatabaseError(f"{destination} already exists. Choose another name or pass --force.")
    if not destination.parent.is_dir():
        raise DatabaseError(f"The folder {destination.parent} does not exist. Create it first.")
    partial = destination.with_name(destination.name + ".partial")
    try:
        partial.unlink(missing_ok=True)
        # Created owner-only before anything writes it: a backup holds every contact.
        create_private_file(partial)
    except OSError as exc:  # named as the file the person asked for, not our temporary one
        raise OSError(exc.errno, exc.strerror, str(destination)) from exc
    return partial


def _dump_postgres(database: Database, destination: Path, overwrite: bool) -> str:
    program = shutil.which("pg_dump")
    if program is None:
        raise DatabaseError(
            "pg_dump was not found on PATH, so nothing was backed up. Install "
            "PostgreSQL's client programs (Debian: apt-get install postgresql-client, "
            "the same major version as the server) and run backup again, or run this "
            "where they are installed, with the password in PGPASSWORD or ~/.pgpass:\n"
            f"  {_pg_dump_command(database, destination)}"
        )
    partial = _partial_file(destination, overwrite)
    try:
        # pg_dump reads one snapshot, so the dump is consistent while workers write.
        _run_checked(
            [program, "--format=custom", f"--file={partial}", f"--dbname={_libpq_url(database)}"],
            make_url(database.url).password,
            f"pg_dump of {database.display_url}",
        )
        restore = shutil.which("pg_restore") or str(Path(program).with_name("pg_restore"))
        listing = _run_checked([restore, "--list", str(partial)], None, "Reading the dump back")
    except DatabaseError as exc:
        partial.unlink(missing_ok=True)
        raise DatabaseError(f"{exc} Nothing was written to {destination}.") from exc
    partial.replace(destination)
    entries = sum(1 for line in listing.splitlines() if line and not line.startswith(";"))
    return (
        f"Backed up {database.display_url} to {destination} "
        f"({destination.stat().st_size:,} bytes, pg_dump custom format, {entries} entries "
        "read back by pg_restore). Restore into an empty database with: "
        f"pg_restore --no-owner --dbname=URL {destination}"
    )


def _backup_fault(exc: sqlite3.Error, source: str, destination: Path) -> DatabaseError:
    """Which file failed a SQLite backup: the copy's disk when full, else the live database."""
    if "full" in str(exc).lower() or disk_state(destination.parent) == "full":
        return StorageError(
            f"Could not write the backup {destination} ({exc}): the disk holding "
            f"{destination.parent} is full. Free some space there, or back up to another "
            "disk, and run backup again. Nothing was written."
        )
    return explain(exc, source) or DatabaseError(f"The backup failed: {exc}. Nothing was written.")


def backup(database: Database, destination: Path, *, overwrite: bool = False) -> str:
    """Copy the live database consistently to `destination` and check the copy."""
    if not database.is_sqlite:
        return _dump_postgres(database, destination, overwrite)
    source = make_url(database.url).database
    if not source or not Path(source).exists():
        raise DatabaseError(f"There is no database at {source} to back up. Run `init` first.")
    partial = _partial_file(destination, overwrite)
    # The backup API copies page by page and restarts if a writer changes a page,
    # so the copy is one consistent snapshot even while the web server writes.
    try:
        with (
            closing(sqlite3.connect(source, timeout=30)) as live,
            closing(sqlite3.connect(partial)) as copy,
        ):
            live.backup(copy)
        verdict = _integrity_check(partial)
    except sqlite3.Error as exc:
        partial.unlink(missing_ok=True)  # no half a backup left to be mistaken for one
        raise _backup_fault(exc, source, destination) from exc
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    if verdict != "ok":
        partial.unlink(missing_ok=True)
        raise StorageError(
            f"The database {source} is damaged: its copy failed SQLite's integrity check "
            f"({verdict}), so nothing was written. Restore it from your latest backup, "
            "then run the command again."
        )
    partial.replace(destination)
    size = destination.stat().st_size
    return f"Backed up {source} to {destination} ({size:,} bytes); integrity check: ok."
