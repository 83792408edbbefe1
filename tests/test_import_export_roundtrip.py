"""Property: importing an export of any registry gives back the same registry."""

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from coalitionletter import names
from coalitionletter.db import Database
from coalitionletter.errors import RegistryError
from coalitionletter.models import Contact, Event, EventChain, Organisation
from coalitionletter.registry import importing as registry_import
from coalitionletter.registry import organisations as registry
from coalitionletter.registry.fields import clean_or_raise

# Letters from the scripts the registry must keep, the joiners, and the
# characters a spreadsheet treats as formulas or quoting.
ALPHABET = st.sampled_from(
    list("AbcéÉßøŁıİ’'\"=+-@,;() .&/")
    + list("燈籠港香港之友")
    + list("ئۇيغۇر")
    + ["\u200c", "\u200d", "\u0301", "\uf900"]
)


def _valid_name(text: str) -> bool:
    try:
        names.clean_name(text, "Name", max_length=300)
    except RegistryError:
        return False
    return text == text.strip()


NAMES = st.text(ALPHABET, min_size=1, max_size=40).filter(_valid_name)
OPTIONAL = st.one_of(st.none(), st.text(ALPHABET, min_size=1, max_size=30).filter(_valid_name))
NOTES = st.one_of(
    st.none(),
    st.lists(st.text(ALPHABET, min_size=1, max_size=20), min_size=1, max_size=3)
    .map("\n".join)
    .filter(lambda text: text == text.strip() and bool(text.strip())),
)
COUNTRIES = st.sampled_from([None, "GB", "US", "CN", "TR", "CA", "DE"])
LANGUAGES = st.sampled_from([None, "en", "ug", "zh-Hant", "fr"])
ORGANISATION = st.fixed_dictionaries(
    {
        "name": NAMES,
        "sort_name": OPTIONAL,
        "country": COUNTRIES,
        "org_type": OPTIONAL,
        "notes": NOTES,
        "contacts": st.lists(
            st.fixed_dictionaries(
                {"contact_name": OPTIONAL, "contact_title": OPTIONAL, "language": LANGUAGES}
            ),
            max_size=3,
        ),
        "website": st.booleans(),
    }
)
REGISTRIES = st.lists(ORGANISATION, max_size=8, unique_by=lambda o: names.name_key(o["name"]))


@pytest.fixture
def clean_database(database: Database) -> Iterator[Database]:
    """The test database; each example empties it first."""
    yield database


def _empty(database: Database) -> None:
    with database.writing() as session:
        for model in (Contact, Organisation, Event, EventChain):
            session.execute(delete(model))


def _fill(database: Database, organisations: list[dict]) -> None:
    with database.writing() as session:
        for number, given_values in enumerate(organisations):
            values = {k: v for k, v in given_values.items() if k not in {"contacts", "website"}}
            if given_values["website"]:
                values["website"] = f"https://site{number}.example/page"
            raw = {k: v for k, v in values.items() if v is not None}
            organisation = registry.add(session, raw, actor="test")
            for index, contact in enumerate(given_values["contacts"]):
                fields = {k: v for k, v in contact.items() if v is not None}
                fields["email"] = f"person{index}@org{number}.example"
                cleaned = clean_or_raise(fields)
                registry.apply_changes(
                    session,
                    organisation,
                    cleaned,
                    actor="test",
                    source="test",
                    add_contact=True,
                )


def _state(database: Database) -> list[dict]:
    transient = {"id", "created_at", "updated_at", "merged_into"}
    with database.reading() as session:
        return [
            {k: v for k, v in registry.describe(o).items() if k not in transient}
            for o in registry.list_organisations(session)
        ]


@pytest.mark.slow
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(organisations=REGISTRIES)
def test_importing_an_export_gives_back_the_same_registry(
    clean_database: Database, tmp_path: Path, organisations: list[dict]
) -> None:
    database = clean_database
    _empty(database)
    _fill(database, organisations)
    before = _state(database)
    stream = io.StringIO(newline="")
    with database.reading() as session:
        registry_import.write_csv(registry.list_organisations(session), stream)
    path = tmp_path / "export.csv"
    path.write_text(stream.getvalue(), encoding="utf-8-sig", newline="")
    _empty(database)
    with database.writing() as session:
        report = registry_import.import_file(
            session, path, update=False, dry_run=False, actor="test"
        )
    assert report.added == len(organisations)
    assert _state(database) == before
