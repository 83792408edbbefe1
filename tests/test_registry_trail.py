"""An import names every organisation it adds in the registry's chained trail, one entry
per batch: bound to each one's id, slug and values, and caught by verify when changed or
removed; older databases' one-entry-per-organisation trails still verify and still read."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update

from coalitionletter import events
from coalitionletter.db import Database
from coalitionletter.models import Event, EventChain, Organisation
from coalitionletter.registry import importing as registry_import
from coalitionletter.registry import organisations as registry
from coalitionletter.registry import trail as registry_trail

MakeCsv = Callable[..., Path]
HEADER = ["Organisation", "Country", "Type", "Website", "Notes", "Email"]
ROWS = [
    ["Kestrel Rights Watch", "GB", "national NGO", "kestrel.example", "", "a@kestrel.example"],
    ["The Heron Forum", "FR", "", "", "Met in Geneva", ""],
    ["Osprey Legal Aid", "", "bar association", "", "", "b@osprey.example"],
]


def _import(database: Database, path: Path) -> registry_import.ImportReport:
    with database.writing() as session:
        return registry_import.import_file(
            session, path, update=False, dry_run=False, actor="staff: Ana"
        )


def _registry_entries(database: Database) -> list[Event]:
    with database.reading() as session:
        query = select(Event).where(Event.chain == events.REGISTRY_CHAIN).order_by(Event.seq)
        return list(session.scalars(query))


def _verify(database: Database) -> list[events.ChainProblem]:
    with database.reading() as session:
        return events.verify(session, events.REGISTRY_CHAIN)


def test_an_import_names_every_organisation_with_its_id_slug_and_values_in_one_entry(
    database: Database, make_csv: MakeCsv
) -> None:
    path = make_csv(HEADER, *ROWS)
    report = _import(database, path)
    assert report.added == 3
    [entry] = _registry_entries(database)
    assert (entry.kind, entry.actor, entry.organisation_id) == (
        registry_trail.IMPORTED,
        "staff: Ana",
        None,
    )
    detail = json.loads(entry.detail)
    with database.reading() as session:
        written = session.scalars(select(Organisation).order_by(Organisation.id)).all()
        expected = [
            [o.id, o.slug, o.name, o.sort_name, o.country, o.org_type, o.website, o.notes, line]
            for o, line in zip(written, (2, 3, 4), strict=True)
        ]
    assert detail["source"] == f"import {path}"
    assert detail["columns"] == list(registry_trail.COLUMNS)
    assert detail["organisations"] == expected
    assert expected[1][2:4] == ["The Heron Forum", "Heron Forum"]  # the values, not just names
    assert _verify(database) == []


def test_the_trail_reads_back_one_addition_per_organisation_with_its_line(
    database: Database, make_csv: MakeCsv
) -> None:
    path = make_csv(HEADER, *ROWS)
    report = _import(database, path)
    with database.reading() as session:
        added = registry_trail.additions(session)
    assert sorted(added) == report.organisation_ids()
    heron = added[report.rows[1].organisation_id or 0]
    assert (heron.slug, heron.name, heron.actor, heron.source) == (
        "the-heron-forum",
        "The Heron Forum",
        "staff: Ana",
        f"import {path} line 3",
    )


def test_the_trail_never_names_a_contact_of_an_imported_organisation(
    database: Database, make_csv: MakeCsv
) -> None:
    _import(database, make_csv(HEADER, *ROWS))
    [entry] = _registry_entries(database)
    assert "Kestrel Rights Watch" in entry.detail  # positive control: the entry is read
    assert "kestrel.example" in entry.detail  # the website is the organisation's
    assert "a@kestrel.example" not in entry.detail


def test_a_large_import_writes_one_entry_per_batch_naming_each_organisation_once(
    database: Database, make_csv: MakeCsv, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(registry_trail, "BATCH", 2)
    rows = [[f"Generated Group {n}", "GB", "", "", "", ""] for n in range(5)]
    report = _import(database, make_csv(HEADER, *rows))
    entries = _registry_entries(database)
    named = [row[0] for e in entries for row in json.loads(e.detail)["organisations"]]
    assert [e.kind for e in entries] == [registry_trail.IMPORTED] * 3
    assert named == report.organisation_ids()
    assert _verify(database) == []


def test_verify_catches_an_organisation_changed_inside_an_import_entry(
    database: Database, make_csv: MakeCsv
) -> None:
    _import(database, make_csv(HEADER, *ROWS))
    assert _verify(database) == []  # positive control
    [entry] = _registry_entries(database)
    forged = entry.detail.replace("Osprey Legal Aid", "Osprey Legal Aide")
    assert forged != entry.detail
    with database.writing() as session:
        session.execute(update(Event).where(Event.id == entry.id).values(detail=forged))
    assert _verify(database) == [events.ChainProblem(1, "was changed after it was written")]


def test_verify_catches_an_import_entry_removed(
    database: Database, make_csv: MakeCsv, new_org: Callable[..., int]
) -> None:
    _import(database, make_csv(HEADER, *ROWS))
    new_org("Later Added Group")
    assert _verify(database) == []  # positive control
    with database.writing() as session:
        session.execute(delete(Event).where(Event.kind == registry_trail.IMPORTED))
    problems = _verify(database)
    assert events.ChainProblem(2, "entry 1 is missing") in problems


def test_an_older_trail_of_one_entry_per_organisation_still_verifies_and_reads(
    database: Database, make_csv: MakeCsv, new_org: Callable[..., int]
) -> None:
    # What imports wrote before the batch entries: one organisation_added entry each.
    old_id = new_org("Old Import Group")
    with database.writing() as session:
        session.execute(delete(Event).where(Event.chain == events.REGISTRY_CHAIN))
        head = session.get(EventChain, events.REGISTRY_CHAIN)
        assert head is not None
        head.length, head.head_hash = 0, events.GENESIS
        values = {"name": "Old Import Group", "slug": "old-import-group"}
        old = registry.added_entry(
            old_id, values, actor="staff: Bo", source="import old.csv line 2"
        )
        events.record_many(session, chain=events.REGISTRY_CHAIN, entries=[old])
    report = _import(database, make_csv(HEADER, *ROWS))
    assert _verify(database) == []
    with database.reading() as session:
        added = registry_trail.additions(session)
    assert [e.kind for e in _registry_entries(database)] == [
        registry_trail.ADDED,
        registry_trail.IMPORTED,
    ]
    assert added[old_id] == registry_trail.Addition(
        1, old_id, "old-import-group", "Old Import Group", "staff: Bo", "import old.csv line 2"
    )
    assert sorted(added) == sorted([old_id, *report.organisation_ids()])
