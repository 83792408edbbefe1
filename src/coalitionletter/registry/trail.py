"""The registry's trail of organisations added: one entry each, or one per import batch.

`org add` (and imports before this module) write one `organisation_added` entry
per organisation. An import writes one `organisations_added` entry per batch of
up to BATCH organisations, naming each with its id, slug, the values written and
the line of the file it came from: chained and hashed like any other entry, so
`events.verify` catches a changed or removed one, at a small part of the cost of
100,000 entries (their JSON, hashes and index updates were a third of a large
import's time). `additions` reads both kinds back, one Addition per organisation.
Contacts are not named: the trail never holds a person or an address.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from operator import itemgetter
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from coalitionletter import events
from coalitionletter.models import Event
from coalitionletter.registry.organisations import ORGANISATION_COLUMNS

ADDED = "organisation_added"
IMPORTED = "organisations_added"
BATCH = 1000
# An imported organisation's values in its batch entry, in this order.
COLUMNS = ("id", "slug", "name", "sort_name", "country", "org_type", "website", "notes", "line")
# Those values' places in a row of registry.organisations.ORGANISATION_COLUMNS.
_VALUES = itemgetter(*(ORGANISATION_COLUMNS.index(key) for key in COLUMNS[1:-1]))


class Imported(NamedTuple):
    """One organisation an import wrote: its id, its columns as written, its line."""

    organisation_id: int
    row: Sequence[Any]  # in registry.organisations.ORGANISATION_COLUMNS order
    line: int


def imported_entries(
    added: Sequence[Imported], *, actor: str, source: str
) -> Iterator[events.Entry]:
    """The trail entries for organisations an import added: one per BATCH of them.

    `source` is the import's (`import FILE`); each organisation's line is in its row.
    """
    for start in range(0, len(added), BATCH):
        rows = [
            [item.organisation_id, *_VALUES(item.row), item.line]
            for item in added[start : start + BATCH]
        ]
        detail = {"source": source, "columns": list(COLUMNS), "organisations": rows}
        yield events.Entry(IMPORTED, actor, detail=detail)


class Addition(NamedTuple):
    """What the trail says about one organisation's adding: which entry, by whom, from where."""

    seq: int
    organisation_id: int
    slug: str
    name: str
    actor: str
    source: str


def _expand(event: Event) -> Iterator[Addition]:
    detail = json.loads(event.detail)
    if event.kind == ADDED:
        assert event.organisation_id is not None  # every organisation_added entry names one
        yield Addition(
            event.seq,
            event.organisation_id,
            detail["slug"],
            detail["name"],
            event.actor,
            detail["source"],
        )
        return
    place = {key: index for index, key in enumerate(detail["columns"])}
    for row in detail["organisations"]:
        source = f"{detail['source']} line {row[place['line']]}"
        yield Addition(
            event.seq,
            row[place["id"]],
            row[place["slug"]],
            row[place["name"]],
            event.actor,
            source,
        )


def additions(session: Session) -> dict[int, Addition]:
    """Every organisation the registry's trail records as added, by id, from either kind."""
    query = (
        select(Event)
        .where(Event.chain == events.REGISTRY_CHAIN, Event.kind.in_((ADDED, IMPORTED)))
        .order_by(Event.seq)
    )
    found: dict[int, Addition] = {}
    for event in session.scalars(query):
        for addition in _expand(event):
            found[addition.organisation_id] = addition
    return found
