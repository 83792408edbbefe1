"""CSV cells a spreadsheet will not run as formulas."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

# A cell starting with one of these is a formula to a spreadsheet (OWASP's list); the
# export, the signatory list, the count CSV and the registry export all guard with it.
FORMULA_STARTS = frozenset("=+-@\t\r")


def safe_cell(value: Any) -> str:
    """A CSV cell that a spreadsheet will not run as a formula (OWASP's leading quote)."""
    if isinstance(value, int | float):
        return str(value)  # numbers, negative ones too, are data, not formulas
    text = "" if value is None else str(value)
    if text and text[0] in FORMULA_STARTS:
        return "'" + text
    return text


def safe_row(values: Sequence[Any]) -> list[str]:
    """Every cell of a CSV row made formula-safe."""
    return [safe_cell(value) for value in values]
