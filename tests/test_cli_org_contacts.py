"""`org contact add|edit|remove`: any of an organisation's contacts, as the console changes them."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import NamedTuple

import pytest
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


class Refusal(NamedTuple):
    """A contact change the registry refuses: the organisations there first, the command,
    and the words of the refusal."""

    registry: list[tuple[str, ...]]
    command: tuple[str, ...]
    words: tuple[str, ...]


REFUSALS = {
    "a-bad-email": Refusal(
        [("PEN America",)],
        ("add", "pen-america", "--email", "b@@pen"),
        ("Email 'b@@pen' is not a valid address",),
    ),
    "an-email-of-another-organisation-named": Refusal(
        [("PEN America", "--email", "info@pen.example"), ("Hong Kong Watch",)],
        ("add", "hong-kong-watch", "--email", "INFO@pen.example"),
        ("already in the registry as #1 PEN America (slug pen-america)",),
    ),
    "an-unknown-contact-number-saying-where-to-look": Refusal(
        [("PEN America", "--email", "info@pen.example")],
        ("edit", "pen-america", "7", "--title", "Director"),
        (
            "#1 PEN America (slug pen-america) has no contact #7",
            "coalitionletter org show pen-america",
        ),
    ),
    "the-same-contact-twice": Refusal(
        [("PEN America", "--contact", "A. Person", "--email", "a@pen.example")],
        ("add", "pen-america", "--name", "Other", "--email", "A@pen.example"),
        ("already has this contact",),
    ),
}


@pytest.mark.parametrize("refusal", REFUSALS.values(), ids=REFUSALS.keys())
def test_a_refused_contact_change_says_why_and_changes_nothing(
    database: Database, invoke: Invoke, refusal: Refusal
) -> None:
    for organisation in refusal.registry:
        _ok(invoke("org", "add", *organisation))
    before = snapshot(database)

    result = invoke("org", "contact", *refusal.command)

    assert result.exit_code == 1
    for words in refusal.words:
        assert words in result.output
    assert snapshot(database) == before


def test_removing_asks_first_and_no_keeps_the_contact(database: Database, invoke: Invoke) -> None:
    _ok(invoke("org", "add", "PEN America", "--email", "info@pen.example"))
    before = snapshot(database)
    result = invoke("org", "contact", "remove", "pen-america", "1", input="n\n")
    assert result.exit_code == 1
    assert "Remove contact #1 of #1 PEN America (slug pen-america)?" in result.output
    assert snapshot(database) == before
