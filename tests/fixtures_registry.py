"""Shared fixtures for the registry tests (a plugin of conftest.py)."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from coalitionletter.db import Database
from coalitionletter.models import Campaign, Contact, Event, Invitation, Organisation
from coalitionletter.registry import organisations as registry
from coalitionletter.registry.importing import ImportReport, import_file
from coalitionletter.signon import states as signon

DATA = Path(__file__).resolve().parent / "data"
SEVENTY = DATA / "coalition-export-70.csv"
TEXT_HASH = "a" * 64


@pytest.fixture
def seventy_csv() -> Path:
    """A realistic spreadsheet export of 70 made-up organisations (UTF-8 with BOM, commas)."""
    return SEVENTY


def seventy_rows() -> tuple[list[str], list[list[str]]]:
    """The 70-organisation export as a header and rows of cells."""
    text = SEVENTY.read_text(encoding="utf-8-sig")
    header, *rows = list(csv.reader(io.StringIO(text, newline="")))
    return header, rows


def write_csv(
    path: Path,
    header: list[str],
    rows: list[list[str]],
    *,
    delimiter: str = ",",
    encoding: str = "utf-8",
) -> Path:
    """Write rows as a spreadsheet would save them."""
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows([header, *rows])
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def import_csv(
    database: Database, path: Path, *, update: bool = False, dry_run: bool = False, **options: bool
) -> ImportReport:
    """Import a CSV file into the registry as `org import` does (the trail's actor: test)."""
    with database.writing() as session:
        return import_file(session, path, update=update, dry_run=dry_run, actor="test", **options)


@pytest.fixture
def make_csv(tmp_path: Path) -> Callable[..., Path]:
    """Write a small CSV (header, rows) into the test's folder and return its path."""

    def make(header: list[str], *rows: list[str], name: str = "orgs.csv", **options: Any) -> Path:
        return write_csv(tmp_path / name, header, list(rows), **options)

    return make


def snapshot(database: Database) -> dict[str, Any]:
    """Everything the registry holds, to assert that a refused action changed nothing."""
    with database.reading() as session:
        organisations = [
            (o.id, o.slug, o.name, o.sort_name, o.country, o.org_type, o.website, o.notes)
            for o in session.scalars(select(Organisation).order_by(Organisation.id))
        ]
        links = [
            (o.id, o.merged_into_id, o.updated_at)
            for o in session.scalars(select(Organisation).order_by(Organisation.id))
        ]
        contacts = [
            (c.id, c.organisation_id, c.name, c.title, c.email, c.language)
            for c in session.scalars(select(Contact).order_by(Contact.id))
        ]
        invitations = [
            (i.id, i.organisation_id, i.campaign_id, i.state)
            for i in session.scalars(select(Invitation).order_by(Invitation.id))
        ]
        events = session.scalar(select(func.count()).select_from(Event))
    return {
        "organisations": organisations,
        "links": links,
        "contacts": contacts,
        "invitations": invitations,
        "events": events,
    }


@pytest.fixture
def new_org(database: Database) -> Callable[..., int]:
    """Add an organisation through the registry and return its id."""

    def add(name: str, **fields: str) -> int:
        with database.writing() as session:
            return registry.add(session, {"name": name, **fields}, actor="test").id

    return add


@pytest.fixture
def record_answer(database: Database) -> Callable[..., None]:
    """Record an organisation's answer to a campaign (made on first use) via signon."""

    def record(organisation_id: int, action: str = "confirm", campaign: str = "c1") -> None:
        with database.writing() as session:
            row = session.scalars(select(Campaign).where(Campaign.slug == campaign)).first()
            if row is None:
                row = Campaign(slug=campaign, title=campaign)
                session.add(row)
                session.flush()
            signon.transition(
                session, row, organisation_id, action, actor="test", text_hash=TEXT_HASH
            )

    return record


# A separate process that adds organisations, one transaction each, for a while;
# it prints how many it added and how many writes failed with "database is locked".
WRITER = """
import sys, time
from sqlalchemy.exc import OperationalError
from coalitionletter.registry import organisations as registry
from coalitionletter.db import Database

url, prefix, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
database = Database(url)
added = locked = 0
deadline = time.monotonic() + seconds
while time.monotonic() < deadline:
    try:
        with database.writing() as session:
            registry.add(session, {"name": f"{prefix} {added}"}, actor=prefix)
        added += 1
    except OperationalError as exc:
        if "locked" not in str(exc):
            raise
        locked += 1
print(added, locked)
"""


def start_writer(url: str, prefix: str, seconds: float) -> subprocess.Popen[str]:
    """Start a process that writes to the database for `seconds`; read its output at the end."""
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, url, prefix, str(seconds)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def writer_result(process: subprocess.Popen[str]) -> tuple[int, int]:
    """(organisations added, writes refused as locked) once the writer has finished."""
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    added, locked = out.split()
    return int(added), int(locked)
