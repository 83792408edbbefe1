"""A quote left open at the end of a CSV: refused, naming the line where it opened."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coalitionletter.db import Database
from coalitionletter.errors import ImportFileError
from coalitionletter.registry.csv_reading import read_table, unclosed_quote_line
from fixtures_registry import snapshot

HEADER = "Organisation,Country,Notes\n"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "orgs.csv"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("end", ["\n", ""])
def test_a_quote_never_closed_names_the_line_it_opened_on(tmp_path: Path, end: str) -> None:
    text = HEADER + 'First Group,GB,fine\nSecond Group,FR,"opened here\nThird Group,DE,x' + end
    path = _write(tmp_path, text)
    with pytest.raises(ImportFileError) as caught:
        read_table(path)
    assert caught.value.problems == [
        f'{path}, line 3: a quote (") opens a cell that is never closed, so every line '
        "after it would be read as part of that cell. Close the quote (or remove it) and "
        "import again."
    ]


def test_a_quoted_cell_over_several_lines_with_doubled_quotes_is_read(tmp_path: Path) -> None:
    text = HEADER + 'First Group,GB,"two\nlines, with ""quotes"""\nSecond Group,FR,\n'
    table = read_table(_write(tmp_path, text))
    assert [line.values["notes"] for line in table.lines] == ['two\nlines, with "quotes"', ""]


def test_a_quote_inside_a_cell_is_only_a_character(tmp_path: Path) -> None:
    table = read_table(_write(tmp_path, HEADER + 'The "Best" Group,GB,5" floppy\n'))
    assert table.lines[0].values["name"] == 'The "Best" Group'


def test_org_import_of_an_unclosed_quote_imports_nothing(
    database: Database, invoke, tmp_path: Path
) -> None:
    path = _write(tmp_path, HEADER + 'First Group,GB,"never closed\nSecond Group,FR,\n')
    before = snapshot(database)
    result = invoke("org", "import", str(path))
    assert result.exit_code == 1, result.output
    assert f'{path}, line 2: a quote (") opens a cell that is never closed' in result.output
    assert snapshot(database) == before


def _ends_inside_a_quote(text: str) -> bool:
    """What the csv module itself says: a closing quote and a line added end the last row."""
    rows = list(csv.reader(io.StringIO(text + '"\nSENTINEL\n', newline="")))
    return rows[-1] == ["SENTINEL"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(["a", ",", '"', "\n", "\r\n", " "]), max_size=14).map("".join))
def test_the_open_quote_check_agrees_with_the_csv_module(body: str) -> None:
    text = body + "\n"
    reader = csv.reader(io.StringIO(text, newline=""))
    start = last = 1
    for _ in reader:
        last, start = start, reader.line_num + 1
    assert (unclosed_quote_line(text, last, ",") is not None) == _ends_inside_a_quote(text)
