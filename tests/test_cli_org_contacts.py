"""`org contact add|edit|remove`: any of an organisation's contacts, as the console changes them."""

from __future__ import annotations

import json
from collections.abc import Callable

from click.testing import Result
from sqlalchemy import select

from coalitionletter.db import Database
from coalitionletter.models import Event
from coalitionletter.registry import organisations as registry
from fixtures_registry import snapshot

Invoke = Callable[..., Result]


def _ok(result: Result) -> str:
    assert result.exit_code == 0, result.output
    return result.output


def _contacts(database: Database, ref: str) -> list[dict[str, str | None]]:
    with database.reading() as session:
        return registry.show(session, ref)["contacts"]


def _last_event(database: Database) -> Event:
    with database.reading() as session:
        return session.scalars(
            select(Event).where(Event.chain == "registry").order_by(Event.seq.desc())
        ).first()


def test_add_edit_and_remove_a_second_contact(database: Database, invoke: Invoke) -> None:
    _ok(invoke("org", "add", "PEN America", "--contact", "A. Person", "--email", "a@pen.example"))
    added = _ok(
        invoke(
            "org",
            "contact",
            "add",
            "pen-america",
            "--name",
            "B. Person",
            "--title",
            "Director",
            "--email",
            "b@pen.example",
        )
    )
    assert added == "Added contact #2 to #1 PEN America (slug pen-america).\n"
    shown = _ok(invoke("org", "show", "pen-america"))
    assert "Contact: B. Person, Director, b@pen.example (contact #2)" in shown
    edited = _ok(invoke("org", "contact", "edit", "pen-america", "2", "--title", ""))
    assert edited == "Changed contact_title of contact #2 of #1 PEN America (slug pen-america).\n"
    assert _contacts(database, "pen-america")[1]["title"] is None
    removed = _ok(invoke("org", "contact", "remove", "pen-america", "1", "--yes"))
    assert (
        removed
        == "Removed contact #1 (A. Person, a@pen.example) from #1 PEN America (slug pen-america).\n"
    )
    assert [c["name"] for c in _contacts(database, "pen-america")] == ["B. Person"]
    detail = json.loads(_last_event(database).detail)
    assert detail["contact_fields"] == ["contact #1 removed"]
    assert detail["source"] == "org contact"


def test_a_bad_email_is_refused_and_changes_nothing(database: Database, invoke: Invoke) -> None:
    _ok(invoke("org", "add", "PEN America"))
    before = snapshot(database)
    result = invoke("org", "contact", "add", "pen-america", "--email", "b@@pen")
    assert result.exit_code == 1
    assert "Email 'b@@pen' is not a valid address" in result.output
    assert snapshot(database) == before


def test_an_email_of_another_organisation_is_refused_naming_it(
    database: Database, invoke: Invoke
) -> None:
    _ok(invoke("org", "add", "PEN America", "--email", "info@pen.example"))
    _ok(invoke("org", "add", "Hong Kong Watch"))
    before = snapshot(database)
    result = invoke("org", "contact", "add", "hong-kong-watch", "--email", "INFO@pen.example")
    assert result.exit_code == 1
    assert "already in the registry as #1 PEN America (slug pen-america)" in result.output
    assert snapshot(database) == before


def test_an_unknown_contact_number_is_refused_saying_where_to_look(
    database: Database, invoke: Invoke
) -> None:
    _ok(invoke("org", "add", "PEN America", "--email", "info@pen.example"))
    before = snapshot(database)
    result = invoke("org", "contact", "edit", "pen-america", "7", "--title", "Director")
    assert result.exit_code == 1
    assert "#1 PEN America (slug pen-america) has no contact #7" in result.output
    assert "coalitionletter org show pen-america" in result.output
    assert snapshot(database) == before


def test_the_same_contact_added_twice_is_refused(database: Database, invoke: Invoke) -> None:
    _ok(invoke("org", "add", "PEN America", "--contact", "A. Person", "--email", "a@pen.example"))
    before = snapshot(database)
    result = invoke(
        "org", "contact", "add", "pen-america", "--name", "Other", "--email", "A@pen.example"
    )
    assert result.exit_code == 1
    assert "already has this contact" in result.output
    assert snapshot(database) == before


def test_removing_asks_first_and_no_keeps_the_contact(database: Database, invoke: Invoke) -> None:
    _ok(invoke("org", "add", "PEN America", "--email", "info@pen.example"))
    before = snapshot(database)
    result = invoke("org", "contact", "remove", "pen-america", "1", input="n\n")
    assert result.exit_code == 1
    assert "Remove contact #1 of #1 PEN America (slug pen-america)?" in result.output
    assert snapshot(database) == before
