"""CSV cells a spreadsheet will not run as formulas, in files that open in Excel as UTF-8.

The guard has two ways to keep a cell from running:

- A name that merely starts with `+` or `-` ("+972 Magazine", "-ism Collective")
  is written as a text literal, `="+972 Magazine"`. Excel, LibreOffice and
  Google Sheets show exactly `+972 Magazine`: nothing is added that a reader
  sees, and a string constant calls, links and references nothing. Inner
  double quotes are doubled, so the literal cannot be closed early.
- Everything else that a spreadsheet would read as a formula (a leading `=`,
  `@`, tab or carriage return, or a text too long or too odd for a literal)
  gets OWASP's leading `'`, which stays visible but works in every program.
  Those cells are not names anyone prints; the quote shows they were guarded.

`read_cell` undoes both, so importing an export gives back the same values.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

# A cell starting with one of these is a formula to a spreadsheet (the one list of them).
FORMULA_STARTS = frozenset("=+-@\t\r")

# Excel refuses a string constant longer than 255 characters inside a formula.
_LITERAL_LIMIT = 255
_TEXT_LITERAL = re.compile(r'="((?:[^"]|"")*)"', re.DOTALL)

# A byte-order mark: without it Excel reads a CSV as the machine's code page and
# shows Chinese, Arabic or Uyghur names as mojibake.
SPREADSHEET_BOM = "\ufeff"


def _as_text_literal(text: str) -> str | None:
    """`="text"` when a leading + or - can be kept by writing the cell as text, else None."""
    if text[0] not in "+-" or len(text) > _LITERAL_LIMIT:
        return None
    if any(ord(char) < 0x20 or char == "\x7f" for char in text):
        return None  # line breaks and controls do not belong in a one-line literal
    return '="' + text.replace('"', '""') + '"'


def safe_cell(value: Any) -> str:
    """A CSV cell that a spreadsheet shows as the value and never runs as a formula."""
    if isinstance(value, int | float):
        return str(value)  # numbers, negative ones too, are data, not formulas
    text = "" if value is None else str(value)
    if not text or text[0] not in FORMULA_STARTS:
        return text
    return _as_text_literal(text) or "'" + text


def safe_row(values: Sequence[Any]) -> list[str]:
    """Every cell of a CSV row made formula-safe."""
    return [safe_cell(value) for value in values]


def read_cell(cell: str) -> str | None:
    """The value a guarded cell stands for, or None when the cell was not guarded."""
    if cell[:1] == "'" and cell[1:2] in FORMULA_STARTS:
        return cell[1:]
    literal = _TEXT_LITERAL.fullmatch(cell)
    if literal and literal.group(1)[:1] in ("+", "-"):
        return literal.group(1).replace('""', '"')
    return None


def spreadsheet_csv(text: str) -> str:
    """CSV text as a spreadsheet should receive it: with the UTF-8 byte-order mark first."""
    return text if text.startswith(SPREADSHEET_BOM) else SPREADSHEET_BOM + text
