"""Reading a spreadsheet saved as CSV: encodings, delimiters, headers and cells.

Reads what spreadsheets really write: UTF-8 with or without a BOM, Excel's
Windows-1252, UTF-16 "Unicode text", `,` `;` or tab between cells, and header
names in any case with the usual synonyms. Every problem is collected, each
with its file, line and column, before anything else happens.
"""

from __future__ import annotations

import codecs
import csv
import io
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from typing import Any, NamedTuple

from coalitionletter.catalogs import N_, Words
from coalitionletter.errors import ImportFileError
from coalitionletter.registry import fields as registry_fields
from coalitionletter.spreadsheet_cells import FORMULA_STARTS, read_cell, safe_cell

# Canonical field -> header names that mean it, folded (lowercase, letters and digits only).
HEADER_SYNONYMS: dict[str, tuple[str, ...]] = {
    "name": (
        "organisation",
        "organization",
        "name",
        "org",
        "organisationname",
        "organizationname",
        "orgname",
    ),
    "sort_name": ("sortname", "sortas"),
    "slug": ("slug",),
    "country": ("country", "countrycode"),
    "org_type": ("type", "organisationtype", "organizationtype", "orgtype", "category"),
    "website": ("website", "url", "web", "site", "homepage", "webaddress"),
    "notes": ("notes", "note", "comments", "comment"),
    "contact_name": ("contact", "contactname", "contactperson"),
    "contact_title": ("title", "contacttitle", "position", "jobtitle", "role"),
    "email": ("email", "emailaddress", "contactemail", "mail"),
    "language": ("language", "lang", "contactlanguage"),
    "listing": ("listing",),
}
HEADER_TO_FIELD = {alias: key for key, aliases in HEADER_SYNONYMS.items() for alias in aliases}
DELIMITERS = (",", ";", "\t")
_HEADER_PREFIX = 64 * 1024


# What a file without a byte-order mark is read as when it is not UTF-8: a guess.
GUESSED_ENCODING = "Windows-1252"


def decode(data: bytes, path: str) -> tuple[str, str]:
    """The file's text and the name of its encoding (UTF-8, UTF-16, Windows-1252)."""
    if data.startswith(codecs.BOM_UTF8):
        candidates = [("utf-8-sig", "UTF-8 with BOM")]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = [("utf-16", "UTF-16")]
    else:
        candidates = [("utf-8", "UTF-8"), ("cp1252", GUESSED_ENCODING)]
    for codec, label in candidates:
        try:
            return data.decode(codec), label
        except UnicodeDecodeError as exc:
            last = exc
    raise ImportFileError(
        [
            N_(
                "%(file)s: the file is not UTF-8 or Windows-1252 text (byte 0x%(byte)s at "
                "offset %(offset)s). Save it from the spreadsheet as 'CSV UTF-8' and import "
                "it again.",
                file=path,
                byte=f"{data[last.start]:02X}",
                offset=last.start,
            )
        ]
    )


def sniff_delimiter(text: str) -> str:
    """The delimiter of the header line: whichever of `,` `;` tab occurs most outside quotes."""
    header = _first_line(text)
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for char in header:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(DELIMITERS, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


def _first_line(text: str) -> str:
    """The first line with more than whitespace in it, as splitlines() would cut it."""
    # A prefix, not the whole file: splitting 100,000 lines to read one costs a tenth
    # of a second. Its last line may be cut short, so it counts only if the prefix ends
    # the text.
    head = text[:_HEADER_PREFIX]
    lines = head.splitlines()
    complete = lines if len(head) == len(text) else lines[:-1]
    found = next((line for line in complete if line.strip()), None)
    if found is None and len(head) < len(text):
        found = next((line for line in text.splitlines() if line.strip()), None)
    return found or ""


def fold_header(header: str) -> str:
    """A header reduced to lowercase letters and digits ("E-mail address" -> "emailaddress")."""
    folded = unicodedata.normalize("NFKC", header).casefold()
    return "".join(char for char in folded if char.isalnum())


def column_letter(index: int) -> str:
    """The spreadsheet letter of a 0-based column (0 -> A, 26 -> AA)."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def neutralise(value: str) -> str:
    """The cell a spreadsheet shows as `value` without running it (see spreadsheet_cells).

    A value that itself starts with `'` before a formula character or another `'`
    gets one more, so that importing the export gives back exactly that value.
    """
    if value[:1] == "'" and (value[1:2] in FORMULA_STARTS or value[1:2] == "'"):
        return "'" + value
    return safe_cell(value)


def unneutralise(value: str) -> str:
    """Undo `neutralise`, so that importing an export gives back the same values."""
    if value[:2] == "''":
        return value[1:]
    original = read_cell(value)
    return value if original is None else original


@dataclass(frozen=True)
class Column:
    """One column of the file that the import reads."""

    index: int
    header: str
    field: str

    def where(self) -> Words:
        """`column C (E-mail)`."""
        return N_(
            "column %(letter)s (%(header)s)", letter=column_letter(self.index), header=self.header
        )


class Line(NamedTuple):
    """One non-empty line of the file: its number and raw values by field."""

    number: int
    values: dict[str, str]


@dataclass
class Table:
    """The file read: columns understood, lines, and what was ignored."""

    path: str
    encoding: str
    delimiter: str
    columns: list[Column]
    lines: list[Line]
    ignored: list[str]

    def column(self, key: str) -> Column | None:
        """The column that gives a field, if any."""
        return next((column for column in self.columns if column.field == key), None)

    def where(self, line: int, key: str | None = None) -> Words:
        """`orgs.csv, line 4, column C (E-mail)`."""
        column = self.column(key) if key else None
        if column is None:
            return N_("%(file)s, line %(line)s", file=self.path, line=line)
        return N_(
            "%(file)s, line %(line)s, %(column)s", file=self.path, line=line, column=column.where()
        )


def _map_headers(path: str, headers: list[str]) -> tuple[list[Column], list[str], list[Words]]:
    columns: list[Column] = []
    ignored: list[str] = []
    problems: list[Words] = []
    for index, header in enumerate(headers):
        key = HEADER_TO_FIELD.get(fold_header(header))
        if key is None:
            if header.strip():
                ignored.append(f"{header.strip()} (column {column_letter(index)})")
            continue
        earlier = next((column for column in columns if column.field == key), None)
        if earlier is not None:
            problems.append(
                N_(
                    "%(file)s, line 1: %(earlier)s and column %(letter)s (%(header)s) both give "
                    "the %(field)s. Rename or delete one.",
                    file=path,
                    earlier=earlier.where(),
                    letter=column_letter(index),
                    header=header,
                    field=registry_fields.LABELS[key],
                )
            )
            continue
        columns.append(Column(index, header.strip(), key))
    if not any(column.field == "name" for column in columns):
        synonyms = "Organisation, Organization, Name, Org"
        joined = ", ".join(headers)
        found = N_("(the header line is: %(headers)s)", headers=joined)
        problems.append(
            N_(
                "%(file)s, line 1: no column gives the organisation's name. Name one column "
                "%(synonyms)s %(found)s.",
                file=path,
                synonyms=synonyms,
                found=found if joined else N_("(the header line is: empty)"),
            )
        )
    return columns, ignored, problems


def read_table(path: Path, display: str | None = None) -> Table:
    """Read and decode a CSV file into lines of values by field; raise ImportFileError."""
    shown = display or str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImportFileError(
            [
                N_(
                    "%(file)s: cannot be read (%(why)s). Check the path.",
                    file=shown,
                    why=exc.strerror,
                )
            ]
        ) from exc
    text, encoding = decode(data, shown)
    delimiter = sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        rows = _numbered_rows(reader)
    except csv.Error as exc:
        # csv's own reason is English (the standard library has no catalogs).
        raise ImportFileError(
            [
                N_(
                    "%(file)s, line %(line)s: %(why)s. Save the file again as CSV.",
                    file=shown,
                    line=reader.line_num,
                    why=str(exc),
                )
            ]
        ) from exc
    if not rows:
        raise ImportFileError(
            [N_("%(file)s: the file is empty. Export the spreadsheet as CSV.", file=shown)]
        )
    opened = unclosed_quote_line(text, rows[-1][0], delimiter) if '"' in text else None
    if opened is not None:
        # csv reads on to the end of the file and hands back the rest as one cell:
        # lines of organisations would silently become one organisation's notes.
        raise ImportFileError(
            [
                N_(
                    '%(file)s, line %(line)s: a quote (") opens a cell that is never closed, '
                    "so every line after it would be read as part of that cell. Close the "
                    "quote (or remove it) and import again.",
                    file=shown,
                    line=opened,
                )
            ]
        )
    (_, headers), *body = rows
    columns, ignored, problems = _map_headers(shown, headers)
    lines: list[Line] = []
    width = len(headers)
    fields = [column.field for column in columns]
    pick = _picker([column.index for column in columns])
    needed = max(column.index for column in columns) + 1 if columns else 0
    for number, cells in body:
        joined = "".join(cells)
        if not joined.strip():
            continue  # spreadsheets end with blank rows
        if len(cells) > width:
            extra = [i for i in range(width, len(cells)) if cells[i].strip()]
            if extra:
                problems.append(
                    N_(
                        "%(file)s, line %(line)s, column %(letter)s: the line has more cells "
                        "than the header (%(width)s). Quote values that contain %(delimiter)s.",
                        file=shown,
                        line=number,
                        letter=column_letter(extra[0]),
                        width=width,
                        delimiter=repr(delimiter),
                    )
                )
        padded = cells if len(cells) >= needed else cells + [""] * (needed - len(cells))
        # Only a cell starting with ' or =" can be an escaped one.
        escaped = "'" in joined or '="' in joined
        picked = map(unneutralise, pick(padded)) if escaped else pick(padded)
        values = dict(zip(fields, picked, strict=True))
        lines.append(Line(number, values))
    if problems:
        raise ImportFileError(problems)
    return Table(shown, encoding, delimiter, columns, lines, ignored)


def _picker(indexes: list[int]) -> Callable[[list[str]], tuple[str, ...]]:
    """A fast function giving the cells at `indexes` as a tuple."""
    if len(indexes) > 1:
        return itemgetter(*indexes)
    return lambda cells: tuple(cells[index] for index in indexes)


def unclosed_quote_line(text: str, first_line: int, delimiter: str) -> int | None:
    """The line whose quote the file ends inside, reading from `first_line` on; None if none.

    A quote opens a quoted cell only at the start of a cell, and `""` inside one
    is a quote, as the csv module reads them; lines are cut as it cuts them.
    """
    lines = io.StringIO(text, newline="").readlines()
    number, opened, quoted, cell_start = first_line, None, False, True
    for line in lines[first_line - 1 :]:
        position = 0
        while position < len(line):
            char = line[position]
            if quoted:
                if char == '"':
                    if line[position + 1 : position + 2] == '"':
                        position += 1
                    else:
                        quoted = False
            elif char == '"' and cell_start:
                quoted, opened = True, number
            else:
                cell_start = char in (delimiter, "\n", "\r")
                position += 1
                continue
            cell_start = False
            position += 1
        number += 1
    return opened if quoted else None


def _numbered_rows(reader: Any) -> list[tuple[int, list[str]]]:
    rows = []
    start = 1
    for cells in reader:
        rows.append((start, cells))
        start = reader.line_num + 1
    return rows
