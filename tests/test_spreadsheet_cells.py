"""The formula guard: what a spreadsheet shows for each cell, and reading it back."""

from __future__ import annotations

import csv
import io

import pytest

from coalitionletter.spreadsheet_cells import (
    SPREADSHEET_BOM,
    read_cell,
    safe_cell,
    safe_row,
    spreadsheet_csv,
)


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=SUM(A1)", "'=SUM(A1)"),
        ("@cmd", "'@cmd"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
    ],
)
def test_a_cell_that_is_a_formula_gets_a_leading_quote(value: str, cell: str) -> None:
    assert safe_cell(value) == cell


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("+972 Magazine", '="+972 Magazine"'),
        ("-ism Collective", '="-ism Collective"'),
        ("+1", '="+1"'),
        ('+"Quoted" Group', '="+""Quoted"" Group"'),
        ('-2+3+cmd|" /C calc"!A0', '="-2+3+cmd|"" /C calc""!A0"'),
    ],
)
def test_a_leading_plus_or_minus_is_written_as_text_with_nothing_added(
    value: str, cell: str
) -> None:
    assert safe_cell(value) == cell


def test_the_text_literal_cannot_be_closed_early_by_a_double_quote() -> None:
    cell = safe_cell('+x" & HYPERLINK("http://evil") & "')
    body = cell[2:-1]
    assert cell.startswith('="') and cell.endswith('"')
    assert '"' not in body.replace('""', "")


@pytest.mark.parametrize("value", ["+" + "a" * 255, "+two\nlines", "-tab\there"])
def test_a_value_no_literal_can_hold_falls_back_to_the_quote(value: str) -> None:
    assert safe_cell(value) == "'" + value


def test_plain_values_and_numbers_are_left_alone() -> None:
    assert safe_row(["plain", 7, -3, None, "加拿大香港之友"]) == [
        "plain",
        "7",
        "-3",
        "",
        "加拿大香港之友",
    ]


@pytest.mark.parametrize(
    "value", ["+972 Magazine", '+"Quoted" Group', "=SUM(A1)", "@cmd", "-x", "+" + "a" * 300]
)
def test_reading_a_guarded_cell_gives_back_the_value(value: str) -> None:
    assert read_cell(safe_cell(value)) == value


def test_reading_an_unguarded_cell_says_so() -> None:
    assert read_cell("Plain Group") is None
    assert read_cell('="Plain"') is None  # a literal the guard never writes is left as typed


def test_the_guarded_cell_survives_csv_quoting() -> None:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(safe_row(["+972 Magazine", 'a "b"']))
    [row] = list(csv.reader(io.StringIO(buffer.getvalue())))
    assert row == ['="+972 Magazine"', 'a "b"']


def test_spreadsheet_csv_starts_with_one_byte_order_mark() -> None:
    text = spreadsheet_csv("name\r\n")
    assert text.encode("utf-8").startswith(b"\xef\xbb\xbfname")
    assert spreadsheet_csv(text) == text
    assert SPREADSHEET_BOM == "\ufeff"
