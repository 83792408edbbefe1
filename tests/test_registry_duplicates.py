"""Likely duplicates already in the registry (`org duplicates`, the console's list)."""

from __future__ import annotations

from collections.abc import Callable

from click.testing import Result

from coalitionletter import names
from coalitionletter.db import Database
from coalitionletter.models import Contact, Organisation
from coalitionletter.registry import duplicates

Invoke = Callable[..., Result]


def _old_row(database: Database, name: str, slug: str, *, email: str | None = None) -> int:
    """A row written before duplicates were refused (straight into the table)."""
    with database.writing() as session:
        organisation = Organisation(
            name=name, slug=slug, name_key=names.name_key(name), sort_name=name
        )
        if email:
            organisation.contacts.append(Contact(email=email, email_key=email.casefold()))
        session.add(organisation)
        session.flush()
        return organisation.id


def _pairs(database: Database) -> list[tuple[str, str, tuple[str, ...]]]:
    with database.reading() as session:
        return [
            (p.first.name, p.second.name, p.reasons) for p in duplicates.likely_duplicates(session)
        ]


def test_rows_sharing_a_name_or_an_email_are_listed_first_with_why(
    database: Database, new_org
) -> None:
    new_org("Amnesty International UK", email="uk@amnesty.example")
    new_org("Amnesty International")
    _old_row(database, "The  Amnesty-International", "amnesty-2")
    _old_row(database, "AIUK", "aiuk", email="UK@amnesty.example")
    # The shared keys first (by the first one's id), then the names alike.
    assert _pairs(database) == [
        ("Amnesty International UK", "AIUK", ("the same email address uk@amnesty.example",)),
        ("Amnesty International", "The  Amnesty-International", (duplicates.SAME_NAME,)),
        ("Amnesty International UK", "Amnesty International", ("one name contains the other",)),
        (
            "Amnesty International UK",
            "The  Amnesty-International",
            ("one name contains the other",),
        ),
    ]


def test_names_much_alike_are_listed_and_different_ones_are_not(
    database: Database, new_org
) -> None:
    new_org("Human Rights Watch")
    new_org("Human Rigths Watch")  # a typing slip: 15 of 16 letters in order, 2*15/32
    new_org("Human Rights First")
    assert _pairs(database) == [
        ("Human Rights Watch", "Human Rigths Watch", ("similar names (94% alike)",)),
    ]


def test_merged_organisations_are_left_out(database: Database, new_org) -> None:
    from coalitionletter.registry import removal

    kept = new_org("PEN America")
    other = new_org("PEN America Center")
    assert len(_pairs(database)) == 1  # positive control: listed before the merge
    with database.writing() as session:
        removal.merge(session, str(kept), str(other), actor="test")
    assert _pairs(database) == []


def test_org_duplicates_says_when_there_are_none(database: Database, invoke: Invoke) -> None:
    result = invoke("org", "duplicates")
    assert result.exit_code == 0, result.output
    assert result.output == "No likely duplicates.\n"


def test_org_duplicates_lists_each_pair_with_labels_and_a_count(
    database: Database, new_org, invoke: Invoke
) -> None:
    new_org("Human Rights Watch")
    new_org("Human Rigths Watch")
    result = invoke("org", "duplicates")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "#1 Human Rights Watch (slug human-rights-watch) and #2 Human Rigths Watch "
        "(slug human-rigths-watch): similar names (94% alike)",
        "1 likely duplicate pair(s).",
    ]
