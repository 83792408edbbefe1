"""`org import --update` is repeatable and never undoes what staff corrected."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

from coalitionletter.db import Database
from fixtures_registry import import_csv, snapshot

MakeCsv = Callable[..., Path]
HEADER = ["Organisation", "Country", "Contact", "Title", "Email"]
# Every import here updates, as `org import --update`, unless a test says otherwise.
_import = partial(import_csv, update=True)


def test_a_second_update_of_the_same_file_changes_nothing(
    database: Database, make_csv: MakeCsv
) -> None:
    path = make_csv(
        HEADER,
        ["PEN America", "US", "A. Person", "Director", ""],  # a contact without an email
        ["PEN America", "", "B. Person", "", "b@pen.example"],
        ["Tamarisk Forum", "GB", "", "", ""],  # a line with no contact data
    )
    _import(database, path)
    before = snapshot(database)

    again = _import(database, path)

    assert snapshot(database) == before
    assert (again.added, again.updated) == (0, 0)


def test_a_line_without_contact_data_adds_no_empty_contact(
    database: Database, new_org: Callable[..., int], make_csv: MakeCsv
) -> None:
    new_org("Tamarisk Forum", contact_name="C. Person", email="c@tamarisk.example")
    _import(database, make_csv(HEADER, ["Tamarisk Forum", "GB", "", "", ""]))
    contacts = snapshot(database)["contacts"]
    assert [(c[2], c[4]) for c in contacts] == [("C. Person", "c@tamarisk.example")]


def test_a_new_contact_without_an_email_is_still_added_once(
    database: Database, new_org: Callable[..., int], make_csv: MakeCsv
) -> None:
    new_org("PEN America", contact_name="A. Person", email="a@pen.example")
    path = make_csv(HEADER, ["PEN America", "", "D. Person", "Officer", ""])
    _import(database, path)
    _import(database, path)
    names = [c[2] for c in snapshot(database)["contacts"]]
    assert names == ["A. Person", "D. Person"]


def test_an_update_keeps_a_name_staff_corrected(
    database: Database, new_org: Callable[..., int], make_csv: MakeCsv
) -> None:
    new_org("Uyghur Human Rights Project", email="info@uhrp.example")
    path = make_csv(HEADER, ["Uyghur Human Rights Proj.", "US", "", "", "info@uhrp.example"])

    report = _import(database, path)

    [organisation] = snapshot(database)["organisations"]
    assert organisation[2] == "Uyghur Human Rights Project"
    assert organisation[4] == "US"  # the rest of the line is taken
    assert "--overwrite-names" in report.rows[0].reason


def test_overwrite_names_takes_the_files_name(
    database: Database, new_org: Callable[..., int], make_csv: MakeCsv
) -> None:
    new_org("Uyghur Human Rights Project", email="info@uhrp.example")
    path = make_csv(HEADER, ["UHRP", "", "", "", "info@uhrp.example"])
    _import(database, path, overwrite_names=True)
    [organisation] = snapshot(database)["organisations"]
    assert organisation[2] == "UHRP"


def test_a_dry_run_shows_each_change_as_old_and_new(
    database: Database, new_org: Callable[..., int], make_csv: MakeCsv
) -> None:
    new_org("PEN America", country="US")
    before = snapshot(database)
    report = _import(database, make_csv(HEADER, ["PEN America", "CA", "", "", ""]), dry_run=True)
    assert "country: US → CA" in report.rows[0].reason
    assert snapshot(database) == before
