"""Shortcuts a large import takes give exactly the long way's answer, and leave nothing behind."""

import csv
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coalitionletter import db
from coalitionletter.db import Database
from coalitionletter.registry import csv_reading as registry_csv
from coalitionletter.registry.csv_reading import read_table

# Lines, blank ones and every line break splitlines() knows, in a short text.
TEXT = st.lists(
    st.sampled_from(["", " ", "\t", "a,b", "x;y", "\n", "\r", "\r\n", "\x0b", "\u2028", "é"]),
    max_size=12,
).map("".join)


@settings(max_examples=400, deadline=None)
@given(TEXT, st.integers(min_value=1, max_value=8))
def test_the_header_line_read_from_a_prefix_is_the_first_line_splitlines_gives(
    text: str, prefix: int
) -> None:
    expected = next((line for line in text.splitlines() if line.strip()), "")
    original = registry_csv._HEADER_PREFIX
    registry_csv._HEADER_PREFIX = prefix
    try:
        assert registry_csv._first_line(text) == expected
    finally:
        registry_csv._HEADER_PREFIX = original


def test_a_cell_escaped_by_an_export_is_read_back_even_when_other_cells_have_no_quote(
    tmp_path: Path,
) -> None:
    path = tmp_path / "orgs.csv"
    path.write_text("Name,Notes\nPlain Group,plain\nEscaped Group,'=1+1\n", encoding="utf-8")
    lines = read_table(path).lines
    assert [line.values["notes"] for line in lines] == ["plain", "=1+1"]


def test_a_name_the_export_wrote_as_a_text_literal_is_read_back_as_the_name(
    tmp_path: Path,
) -> None:
    path = tmp_path / "orgs.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(
            [["Name", "Notes"], ['="+972 Magazine"', "a"], ['="-a ""b"""', "b"], ['="Typed"', "c"]]
        )
    lines = read_table(path).lines
    assert [line.values["name"] for line in lines] == ["+972 Magazine", '-a "b"', '="Typed"']


@pytest.mark.sqlite_only
def test_an_import_runs_with_a_large_page_cache_and_gives_the_connection_back_as_it_was(
    database: Database,
) -> None:
    with database.writing() as session:
        before = session.connection().exec_driver_sql("PRAGMA cache_size").scalar()
        with db.bulk_write(session):
            during = session.connection().exec_driver_sql("PRAGMA cache_size").scalar()
        after = session.connection().exec_driver_sql("PRAGMA cache_size").scalar()
    assert during == -db.BULK_WRITE_CACHE_KIB
    assert after == before != during


@pytest.mark.sqlite_only
def test_the_page_cache_is_given_back_when_an_import_fails(database: Database) -> None:
    with database.writing() as session:
        before = session.connection().exec_driver_sql("PRAGMA cache_size").scalar()
        with pytest.raises(RuntimeError), db.bulk_write(session):
            raise RuntimeError("a line was refused")
        assert session.connection().exec_driver_sql("PRAGMA cache_size").scalar() == before
