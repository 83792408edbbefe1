"""A large import goes in whole, every line with its contact and its event, and duplicates
are caught against the registry and between lines however far apart they are."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select

from coalitionletter import bulk_sql, events
from coalitionletter.db import Database
from coalitionletter.models import Contact, Event, Organisation, utcnow
from coalitionletter.registry import trail as registry_trail
from fixtures_registry import import_csv

MakeCsv = Callable[..., Path]
HEADER = ["Organisation", "Country", "Website", "Contact", "Email"]


def _generated(count: int) -> list[list[str]]:
    return [
        [f"Generated Rights Group {n}", "GB", f"org{n}.example.org", f"Person {n}", f"o{n}@x.org"]
        for n in range(count)
    ]


def test_three_thousand_generated_rows_land_each_with_its_contact_and_its_event(
    database: Database, make_csv: MakeCsv
) -> None:
    rows = _generated(3000)
    report = import_csv(database, make_csv(HEADER, *rows))
    assert (report.added, report.skipped) == (3000, 0)
    with database.reading() as session:
        stored = session.execute(
            select(Organisation.id, Organisation.name, Organisation.website_domain, Contact.email)
            .join(Contact, Contact.organisation_id == Organisation.id)
            .order_by(Organisation.id)
        ).all()
        added = registry_trail.additions(session)
        problems = events.verify(session, events.REGISTRY_CHAIN)
    assert [(name, domain, email) for _, name, domain, email in stored] == [
        (row[0], row[2], row[4]) for row in rows
    ]
    assert report.organisation_ids() == [organisation_id for organisation_id, *_ in stored]
    assert {id_: added[id_].name for id_ in added} == {id_: name for id_, name, *_ in stored}
    assert added[stored[-1][0]].source == f"import {report.path} line 3001"
    assert problems == []


def test_a_line_repeating_an_email_or_website_of_a_line_far_above_is_skipped_naming_it(
    database: Database, make_csv: MakeCsv
) -> None:
    rows = _generated(500)
    rows.append(["Another Name Entirely", "", "", "", "O7@X.org"])
    rows.append(["Yet Another Name", "", "https://www.org9.example.org/about", "", ""])
    report = import_csv(database, make_csv(HEADER, *rows))
    assert report.added == 500
    assert report.rows[-2].reason == "repeats line 9 (the same email address o7@x.org)"
    assert (
        report.rows[-1].reason
        == "repeats line 11 (a website on the same domain (org9.example.org))"
    )


def test_a_line_matching_the_registry_and_a_line_above_names_both_with_their_ids(
    database: Database, make_csv: MakeCsv, new_org: Callable[..., int]
) -> None:
    kept = new_org("Existing Forum", website="existing.example.org")
    path = make_csv(
        ["Organisation", "Website", "Email"],
        ["New Forum", "", "new@x.org"],
        ["Existing Forum", "", "new@x.org"],
    )
    report = import_csv(database, path)
    added = report.rows[0].organisation_id
    assert added is not None
    assert report.rows[1].reason == (
        f"already in the registry as #{kept} Existing Forum (slug existing-forum): the same "
        f"name (ignoring case, spaces, punctuation and a leading The); #{added} New Forum "
        "(slug new-forum): the same email address new@x.org (use --update to update it)"
    )


def test_an_update_between_adds_keeps_the_registry_chain_in_file_order(
    database: Database, make_csv: MakeCsv, new_org: Callable[..., int]
) -> None:
    new_org("Existing Forum")
    path = make_csv(
        ["Organisation", "Country"],
        ["First New", "GB"],
        ["Existing Forum", "FR"],
        ["Second New", "DE"],
    )
    report = import_csv(database, path, update=True)
    assert [row.action for row in report.rows] == ["add", "update", "add"]
    with database.reading() as session:
        kinds = session.execute(
            select(Event.seq, Event.kind, Event.detail).where(Event.seq > 1).order_by(Event.seq)
        ).all()
        added = registry_trail.additions(session)
        assert events.verify(session, events.REGISTRY_CHAIN) == []
    assert [kind for _, kind, _ in kinds] == [
        "organisations_added",
        "organisation_edited",
        "organisations_added",
    ]
    by_name = {addition.name: addition for addition in added.values()}
    assert (by_name["First New"].seq, by_name["First New"].source) == (2, f"import {path} line 2")
    assert f"import {path} line 3" in kinds[1][2]
    assert (by_name["Second New"].seq, by_name["Second New"].source) == (4, f"import {path} line 4")


def test_a_slug_taken_earlier_in_the_same_file_gets_the_next_number(
    database: Database, make_csv: MakeCsv
) -> None:
    path = make_csv(["Organisation", "Slug"], ["Alpha Group", "shared"], ["Beta Group", "shared"])
    report = import_csv(database, path)
    with database.reading() as session:
        slugs = session.scalars(select(Organisation.slug).order_by(Organisation.id)).all()
    assert report.added == 2
    assert slugs == ["shared", "shared-2"]


def test_ids_are_read_by_slug_when_another_writers_row_is_among_the_new_ones(
    database: Database, make_csv: MakeCsv, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = bulk_sql.insert_rows

    def another_writer_then_insert(session: Any, table: Any, *args: Any, **kwargs: Any) -> None:
        if table.name == "organisations":  # as a writer on PostgreSQL could, meanwhile
            session.execute(
                insert(Organisation).values(
                    slug="interloper",
                    name="Interloper",
                    name_key="interloper",
                    sort_name="Interloper",
                    created_at=utcnow(),
                    updated_at=utcnow(),
                )
            )
        original(session, table, *args, **kwargs)

    monkeypatch.setattr(bulk_sql, "insert_rows", another_writer_then_insert)
    report = import_csv(database, make_csv(HEADER, *_generated(5)))
    with database.reading() as session:
        names = dict(session.execute(select(Organisation.id, Organisation.name)).all())
        added = registry_trail.additions(session)
    assert "Interloper" in names.values()  # positive control: the other row is there
    assert [names[row.organisation_id or 0] for row in report.rows] == [
        row[0] for row in _generated(5)
    ]
    assert {id_: a.name for id_, a in added.items()} == {
        row.organisation_id: row.name for row in report.rows
    }
